import { useQuery } from '@apollo/client/react';
import { type ReactNode, Suspense } from 'react';
import { guest, Header, Layout } from '../components/Layout';
import { Price } from '../components/Price';
import { ProductCard } from '../components/ProductCard';
import { Unavailable } from '../components/Unavailable';
import { CATALOG_QUERY, PRICES_QUERY, VIEWER_QUERY } from '../queries';
import { FrontPage } from './Home';

/** The visitor's header, read per request (a hole of the shell). */
function VisitorHeader(): ReactNode {
  const { data } = useQuery(VIEWER_QUERY);
  return <Header viewer={data?.viewer ?? guest} />;
}

/** This visitor's price of one product (a hole of the shell). */
function VisitorPrice(props: { id: string; listPrice: number }): ReactNode {
  const { data } = useQuery(PRICES_QUERY);
  const price = data?.products.find((p) => p.id === props.id)?.price ?? props.listPrice;
  return <Price price={price} listPrice={props.listPrice} />;
}

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
    <Layout
      viewer={guest}
      header={
        <Suspense fallback={<Header viewer={guest} />}>
          <VisitorHeader />
        </Suspense>
      }
      serverTime={data.serverTime}
    >
      <FrontPage visits={data.visits}>
        {data.products.map((product) => (
          <ProductCard
            key={product.id}
            product={{ ...product, price: product.listPrice }}
            price={
              <Suspense
                fallback={<Price price={product.listPrice} listPrice={product.listPrice} />}
              >
                <VisitorPrice id={product.id} listPrice={product.listPrice} />
              </Suspense>
            }
          />
        ))}
      </FrontPage>
    </Layout>
  );
}
