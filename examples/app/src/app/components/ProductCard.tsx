import styled from '@emotion/styled';
import type { ReactNode } from 'react';
import type { ProductSummary } from '../queries';
import { AddToCart } from './AddToCart';
import { Price } from './Price';
import { StockBadge } from './StockBadge';

const Card = styled.article<{ hue: number }>`
  display: flex;
  flex-direction: column;
  gap: 8px;
  padding: 18px 20px;
  border-radius: 14px;
  background: #fff;
  border-top: 6px solid hsl(${(p) => p.hue} 65% 50%);
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.08);
  h3 {
    margin: 0;
    font-size: 17px;
  }
`;

/** One product in the list; `price` replaces its price (e.g. a Suspense boundary around it). */
export function ProductCard(props: { product: ProductSummary; price?: ReactNode }): ReactNode {
  const { product } = props;
  return (
    <Card hue={product.hue} data-testid={`product-${product.id}`}>
      <h3>
        <a href={`/products/${product.id}`}>{product.name}</a>
      </h3>
      {props.price ?? <Price price={product.price} listPrice={product.listPrice} />}
      <div>
        <StockBadge stock={product.stock} />
      </div>
      <AddToCart productId={product.id} />
    </Card>
  );
}
