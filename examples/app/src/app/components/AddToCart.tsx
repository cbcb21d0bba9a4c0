import styled from '@emotion/styled';
import type { ReactNode } from 'react';
import { useCart } from '../cart';

const Button = styled.button<{ added: boolean }>`
  margin-top: 12px;
  padding: 8px 14px;
  border: 0;
  border-radius: 8px;
  font: inherit;
  font-weight: 600;
  cursor: pointer;
  color: #fff;
  background: ${(p) => (p.added ? '#047857' : '#1f2937')};
`;

/** Adds a product to the cart. Works once the page is hydrated. */
export function AddToCart(props: { productId: string }): ReactNode {
  const cart = useCart();
  const count = cart.count(props.productId);
  return (
    <Button
      type="button"
      added={count > 0}
      data-testid={`add-${props.productId}`}
      onClick={() => cart.add(props.productId)}
    >
      {count > 0 ? `In cart: ${count}` : 'Add to cart'}
    </Button>
  );
}
