import { createContext, type ReactNode, use, useMemo, useState } from 'react';

interface Cart {
  count(productId: string): number;
  total: number;
  add(productId: string): void;
}

const CartContext = createContext<Cart | null>(null);

/** The visitor's cart, kept in the browser. Empty on the server. */
export function CartProvider(props: { children: ReactNode }): ReactNode {
  const [items, setItems] = useState<Record<string, number>>({});
  const cart = useMemo<Cart>(
    () => ({
      count: (id) => items[id] ?? 0,
      total: Object.values(items).reduce((sum, n) => sum + n, 0),
      add: (id) => setItems((current) => ({ ...current, [id]: (current[id] ?? 0) + 1 })),
    }),
    [items],
  );
  return <CartContext value={cart}>{props.children}</CartContext>;
}

/** The cart; throws outside a {@link CartProvider}. */
export function useCart(): Cart {
  const cart = use(CartContext);
  if (!cart) throw new Error('[kiln/example] useCart() needs a <CartProvider> above it');
  return cart;
}
