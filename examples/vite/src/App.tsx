import { useQuery } from '@apollo/client/react';
import styled from '@emotion/styled';
import { type ReactNode, useEffect, useState } from 'react';
import { Picks } from './Picks';
import type { CatalogueItem } from './queries';
import { CATALOGUE_QUERY } from './queries';
import { Welcome } from './Welcome';

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

const Main = styled.main`
  max-width: 760px;
  margin: 0 auto;
  padding: 28px 32px 48px;
  font-family: system-ui, sans-serif;
  color: #18181b;
`;

const Title = styled.h1`
  margin: 0 0 8px;
  color: rgb(154, 52, 18);
`;

const List = styled.ul`
  margin: 0;
  padding: 0;
`;

const Item = styled.li<{ hue: number }>`
  display: flex;
  justify-content: space-between;
  align-items: center;
  gap: 16px;
  padding: 12px 16px;
  margin-bottom: 10px;
  border-left: 6px solid hsl(${(p) => p.hue} 60% 45%);
  background: #fff;
  list-style: none;
`;

const Button = styled.button<{ liked: boolean }>`
  padding: 6px 12px;
  border: 0;
  border-radius: 6px;
  font: inherit;
  cursor: pointer;
  color: #fff;
  background: ${(p) => (p.liked ? '#047857' : '#1f2937')};
`;

function Product(props: { product: CatalogueItem }): ReactNode {
  const { product } = props;
  const [likes, setLikes] = useState(0);
  return (
    <Item hue={product.hue} data-testid={`product-${product.id}`}>
      <span>
        {product.name} · {money.format(product.price / 100)}
      </span>
      <Button
        type="button"
        liked={likes > 0}
        data-testid={`like-${product.id}`}
        onClick={() => setLikes((n) => n + 1)}
      >
        {likes > 0 ? `Liked ${likes}` : 'Like'}
      </Button>
    </Item>
  );
}

/** A page that fails while rendering, to show the error document (with a source-mapped stack in development). */
function Broken(): ReactNode {
  throw new Error('This page fails on purpose');
}

function Catalogue(): ReactNode {
  const { data, error } = useQuery(CATALOGUE_QUERY);
  if (error) return <p role="alert">The catalogue is unavailable.</p>;
  if (!data) return null;
  return (
    <List data-testid="catalogue">
      {data.products.map((product) => (
        <Product key={product.id} product={product} />
      ))}
    </List>
  );
}

/**
 * The page, rendered into the template's `<div id="root">`: its `<title>` and `<meta>` are
 * hoisted into the template's head. `onHydrated` runs in the browser once it is interactive.
 */
export function App(props: { url: string; onHydrated?: () => void }): ReactNode {
  const { onHydrated } = props;
  const path = new URL(props.url, 'http://localhost').pathname;
  useEffect(() => {
    onHydrated?.();
  }, [onHydrated]);
  return (
    <Main>
      <title>Kiln shop · Vite</title>
      <meta name="description" content="The Kiln demo catalogue, served by Vite." />
      <Title>Kiln shop</Title>
      <Welcome />
      {path === '/error' ? <Broken /> : <Catalogue />}
      <Picks />
    </Main>
  );
}
