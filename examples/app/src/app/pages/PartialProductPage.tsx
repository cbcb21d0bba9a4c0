import { useQuery } from '@apollo/client/react';
import type { ReactNode } from 'react';
import { guest, Layout } from '../components/Layout';
import { Unavailable } from '../components/Unavailable';
import { HeaderHole, PriceHole } from '../components/VisitorHoles';
import { PRODUCT_SHELL_QUERY } from '../queries';
import { NotFound } from './NotFound';
import { ProductArticle } from './ProductPage';

/**
 * A product page built for partial pre-rendering (`KILN_CACHE=partial`): the name,
 * description, stock, view counter and staff picks are the shell, stored once per product; the
 * header (greeting, sign-in state, cart) and the price are holes, rendered for each visitor.
 */
export function PartialProductPage(props: { id: string }): ReactNode {
  const { data, error } = useQuery(PRODUCT_SHELL_QUERY, { variables: { id: props.id } });
  if (error) return <Unavailable />;
  if (!data) return null;
  const { product } = data;
  if (!product) return <NotFound />;
  return (
    <Layout viewer={guest} header={<HeaderHole />} serverTime={data.serverTime}>
      <ProductArticle
        product={product}
        price={<PriceHole id={product.id} listPrice={product.listPrice} />}
      />
    </Layout>
  );
}
