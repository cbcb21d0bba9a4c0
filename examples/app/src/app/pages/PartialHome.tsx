import { useQuery } from '@apollo/client/react';
import type { ReactNode } from 'react';
import { guest, Layout } from '../components/Layout';
import { ProductCard } from '../components/ProductCard';
import { Unavailable } from '../components/Unavailable';
import { HeaderHole, PriceHole } from '../components/VisitorHoles';
import { CATALOG_QUERY } from '../queries';
import { FrontPage } from './Home';

/**
 * The front page built for partial pre-rendering (`KILN_CACHE=partial`): the catalogue, stock,
 * counters and staff picks are the shell, stored once; the header (greeting, sign-in state,
 * cart) and every price are holes, rendered for each visitor. The fallbacks are the guest's.
 */
export function PartialHome(): ReactNode {
  const { data, error } = useQuery(CATALOG_QUERY);
  if (error) return <Unavailable />;
  if (!data) return null;
  return (
    <Layout viewer={guest} header={<HeaderHole />} serverTime={data.serverTime}>
      <FrontPage visits={data.visits}>
        {data.products.map((product) => (
          <ProductCard
            key={product.id}
            product={{ ...product, price: product.listPrice }}
            price={<PriceHole id={product.id} listPrice={product.listPrice} />}
          />
        ))}
      </FrontPage>
    </Layout>
  );
}
