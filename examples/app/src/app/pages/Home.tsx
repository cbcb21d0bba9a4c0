/** @jsxImportSource @emotion/react */
import { useQuery } from '@apollo/client/react';
import { css } from '@emotion/react';
import type { ReactNode } from 'react';
import { Layout } from '../components/Layout';
import { Picks } from '../components/Picks';
import { ProductCard } from '../components/ProductCard';
import { Unavailable } from '../components/Unavailable';
import { HOME_QUERY } from '../queries';

const grid = css`
  display: grid;
  grid-template-columns: repeat(2, minmax(0, 1fr));
  gap: 20px;
`;

/** The front page's title, heading, visit counter, product grid and staff picks. */
export function FrontPage(props: { visits: number; children: ReactNode }): ReactNode {
  return (
    <>
      <title>Kiln shop · Kitchenware</title>
      <meta name="description" content="Kettles, teapots and mugs, with live stock levels." />
      <h1 css={{ margin: '0 0 4px' }}>Kitchenware</h1>
      <p css={{ margin: '0 0 20px', color: '#52525b' }} data-live="visits" data-testid="visits">
        This shop was visited {props.visits} times.
      </p>
      <div css={grid}>{props.children}</div>
      <Picks />
    </>
  );
}

/** The front page: the catalogue with this visitor's prices, live stock and staff picks. */
export function Home(): ReactNode {
  const { data, error } = useQuery(HOME_QUERY);
  if (error) return <Unavailable />;
  if (!data) return null;
  return (
    <Layout viewer={data.viewer} serverTime={data.serverTime}>
      <FrontPage visits={data.visits}>
        {data.products.map((product) => (
          <ProductCard key={product.id} product={product} />
        ))}
      </FrontPage>
    </Layout>
  );
}
