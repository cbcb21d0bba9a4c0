/** @jsxImportSource @emotion/react */
import { css, Global, keyframes } from '@emotion/react';
import styled from '@emotion/styled';
import { type ReactNode, Suspense, use, useEffect, useState } from 'react';

/** Who is looking at the page; styles depend on it. */
export interface Visitor {
  name: string;
  theme: 'light' | 'dark';
  accent: string;
  /** Text the visitor typed, shown in a CSS `content` (user data inside CSS). */
  badge: string;
}

export interface Product {
  id: number;
  title: string;
  price: number;
  onSale: boolean;
}

export const products: Product[] = [
  { id: 1, title: 'Kettle', price: 30, onSale: false },
  { id: 2, title: 'Teapot', price: 45, onSale: true },
  { id: 3, title: 'Mug', price: 8, onSale: false },
];

const pulse = keyframes`
  from { opacity: 0.4; }
  to { opacity: 1; }
`;

const spin = keyframes`
  from { transform: rotate(0deg); }
  to { transform: rotate(360deg); }
`;

const Card = styled('article', { shouldForwardProp: (prop) => prop !== 'highlight' })<{
  highlight: boolean;
}>`
  display: block;
  width: 180px;
  padding: 12px;
  margin: 8px;
  border: 2px solid ${(p) => (p.highlight ? '#c0392b' : '#7f8c8d')};
  background: ${(p) => (p.highlight ? '#fdecea' : '#ffffff')};
  &:nth-child(2n) {
    border-style: dashed;
  }
  @media (min-width: 600px) {
    display: inline-block;
  }
`;

const Price = styled.span<{ color: string }>`
  font-weight: bold;
  color: ${(p) => p.color};
`;

function Badge({ text }: { text: string }): ReactNode {
  return (
    <span
      data-testid="badge"
      css={css`
        display: inline-block;
        padding: 2px 6px;
        background: #222;
        color: #fff;
        &::after {
          content: ${JSON.stringify(text)};
        }
      `}
    />
  );
}

/** A button whose style changes on click: a rule that only the browser inserts. */
function Toggle(): ReactNode {
  const [on, setOn] = useState(false);
  return (
    <button
      type="button"
      id="toggle"
      onClick={() => setOn(!on)}
      css={{ marginLeft: 8, color: on ? 'rgb(200, 10, 10)' : 'rgb(10, 10, 10)' }}
    >
      {on ? 'on' : 'off'}
    </button>
  );
}

/** The page: Global styles (with keyframes), styled with props, the css prop, data-driven styles. */
export function Page({
  visitor,
  late,
}: {
  visitor: Visitor;
  late?: Promise<Product[]>;
}): ReactNode {
  const dark = visitor.theme === 'dark';
  return (
    <div
      id="page"
      css={css`
        font-family: sans-serif;
        font-size: 16px;
        padding: 16px;
        color: ${dark ? '#eeeeee' : '#111111'};
        background: ${dark ? '#1e1e1e' : '#fafafa'};
      `}
    >
      <Global
        styles={css`
          body {
            margin: 0;
            background: ${dark ? '#000' : '#fff'};
          }
          .kiln-pulse {
            animation: ${pulse} 2s infinite;
          }
        `}
      />
      <h1
        css={{
          margin: 0,
          color: visitor.accent,
          animation: `${spin} 10s linear infinite paused`,
        }}
      >
        Hello, {visitor.name}
      </h1>
      <Badge text={visitor.badge} />
      <Toggle />
      <section>
        {products.map((product) => (
          <Card key={product.id} highlight={product.onSale}>
            <h2 css={{ fontSize: 18, margin: '0 0 4px' }}>{product.title}</h2>
            <Price color={product.onSale ? visitor.accent : '#333333'}>${product.price}</Price>
          </Card>
        ))}
      </section>
      {late ? (
        <Suspense fallback={<p id="loading">Loading…</p>}>
          <Late products={late} accent={visitor.accent} />
        </Suspense>
      ) : null}
    </div>
  );
}

const LateList = styled.ul`
  list-style: none;
  padding: 0;
  outline: 3px solid #2980b9;
`;

function Late({
  products: pending,
  accent,
}: {
  products: Promise<Product[]>;
  accent: string;
}): ReactNode {
  const items = use(pending);
  useEffect(() => {
    document.documentElement.setAttribute('data-late-hydrated', '');
  }, []);
  return (
    <LateList id="late">
      <Global styles={{ '#late li + li': { marginTop: 4 } }} />
      {items.map((item) => (
        <li
          key={item.id}
          css={css`
            padding: 6px;
            background: ${accent};
            color: #fff;
            animation: ${pulse} 1s;
          `}
        >
          {item.title}
        </li>
      ))}
    </LateList>
  );
}

export const alice: Visitor = {
  name: 'Alice',
  theme: 'light',
  accent: '#8e44ad',
  badge: 'new',
};

export const bob: Visitor = {
  name: 'Bob',
  theme: 'dark',
  accent: '#16a085',
  badge: '</style><script>alert(1)</script>',
};
