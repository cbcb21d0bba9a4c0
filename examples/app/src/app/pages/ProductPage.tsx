/** @jsxImportSource @emotion/react */
import { useQuery } from '@apollo/client/react';
import type { ReactNode } from 'react';
import { AddToCart } from '../components/AddToCart';
import { Layout } from '../components/Layout';
import { Picks } from '../components/Picks';
import { Price } from '../components/Price';
import { StockBadge } from '../components/StockBadge';
import { Unavailable } from '../components/Unavailable';
import { PRODUCT_QUERY, type ProductDetails } from '../queries';
import { NotFound } from './NotFound';

/** A product's title, description, `price`, stock, view counter, cart button and staff picks. */
export function ProductArticle(props: { product: ProductDetails; price: ReactNode }): ReactNode {
  const { product } = props;
  return (
    <>
      <title>{`${product.name} · Kiln shop`}</title>
      <meta name="description" content={product.description} />
      <article
        css={{
          padding: '24px 28px',
          borderRadius: 14,
          background: '#fff',
          borderLeft: `8px solid hsl(${product.hue} 65% 50%)`,
        }}
      >
        <h1 css={{ marginTop: 0 }}>{product.name}</h1>
        <p>{product.description}</p>
        {props.price}
        <div css={{ margin: '12px 0' }}>
          <StockBadge stock={product.stock} />
        </div>
        <p css={{ color: '#52525b' }} data-live="views" data-testid="views">
          Viewed {product.views} times.
        </p>
        <AddToCart productId={product.id} />
      </article>
      <Picks />
    </>
  );
}

/** One product: description, this visitor's price, live stock and a view counter. */
export function ProductPage(props: { id: string }): ReactNode {
  const { data, error } = useQuery(PRODUCT_QUERY, { variables: { id: props.id } });
  if (error) return <Unavailable />;
  if (!data) return null;
  const { product } = data;
  if (!product) return <NotFound />;
  return (
    <Layout viewer={data.viewer} serverTime={data.serverTime}>
      <ProductArticle
        product={product}
        price={<Price price={product.price} listPrice={product.listPrice} />}
      />
    </Layout>
  );
}
