/** @jsxImportSource @emotion/react */
import { css, Global } from '@emotion/react';
import styled from '@emotion/styled';
import type { ReactNode } from 'react';
import { useCart } from '../cart';
import { formatTime, visitorHue } from '../format';
import type { Viewer } from '../queries';

const globalStyles = css`
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  body {
    margin: 0;
    font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    font-size: 15px;
    line-height: 1.5;
    color: #18181b;
    background: #f7f5f0;
  }
  a {
    color: inherit;
  }
`;

const Bar = styled.header<{ hue: number }>`
  display: flex;
  align-items: center;
  gap: 24px;
  padding: 14px 32px;
  color: #fff;
  background: hsl(${(p) => p.hue} 55% 30%);
  border-bottom: 4px solid hsl(${(p) => p.hue} 70% 55%);
`;

const Brand = styled.a`
  font-size: 20px;
  font-weight: 800;
  letter-spacing: 0.02em;
  text-decoration: none;
`;

const field = css`
  padding: 6px 10px;
  border: 1px solid rgba(255, 255, 255, 0.6);
  border-radius: 6px;
  font: inherit;
  color: #18181b;
`;

const Main = styled.main`
  max-width: 960px;
  margin: 0 auto;
  padding: 28px 32px 48px;
`;

function Greeting(props: { viewer: Viewer }): ReactNode {
  const { viewer } = props;
  if (viewer.signedIn) {
    return (
      <p css={{ margin: 0, flex: 1 }} data-testid="greeting">
        Welcome back, <strong>{viewer.name}</strong>, your member prices are{' '}
        {viewer.discountPercent}% off. <a href="/signout">Sign out</a>
      </p>
    );
  }
  return (
    <form
      action="/signin"
      method="get"
      css={{ display: 'flex', gap: 8, flex: 1, margin: 0, alignItems: 'center' }}
    >
      <span data-testid="greeting">Hello, guest.</span>
      <input name="name" placeholder="Your name" aria-label="Your name" css={field} />
      <button type="submit" css={field}>
        Sign in for member prices
      </button>
    </form>
  );
}

function CartCount(): ReactNode {
  const { total } = useCart();
  return (
    <span
      data-testid="cart"
      css={css`
        padding: 4px 12px;
        border-radius: 999px;
        background: rgba(255, 255, 255, 0.16);
        font-weight: 600;
      `}
    >
      Cart: {total}
    </span>
  );
}

/** The visitor's header: their colour, greeting and cart. */
export function Header(props: { viewer: Viewer }): ReactNode {
  return (
    <Bar hue={visitorHue(props.viewer.name)}>
      <Brand href="/">Kiln shop</Brand>
      <Greeting viewer={props.viewer} />
      <CartCount />
    </Bar>
  );
}

/**
 * The frame of every page: global styles, the visitor's header (or `header`, e.g. a Suspense
 * boundary around it), the server's clock.
 */
export function Layout(props: {
  viewer: Viewer;
  header?: ReactNode;
  serverTime?: string;
  children: ReactNode;
}): ReactNode {
  return (
    <>
      <Global styles={globalStyles} />
      {props.header ?? <Header viewer={props.viewer} />}
      <Main>{props.children}</Main>
      {props.serverTime && (
        <footer
          css={css`
            padding: 16px 32px;
            color: #52525b;
            font-size: 13px;
            text-align: center;
          `}
          data-live="time"
          data-testid="server-time"
        >
          Rendered at {formatTime(props.serverTime)}
        </footer>
      )}
    </>
  );
}

/** The header's visitor when nobody is signed in. */
export const guest: Viewer = { name: null, signedIn: false, discountPercent: 0 };

/** A page without data (errors, not found): the frame with a guest header. */
export function PlainLayout(props: { children: ReactNode }): ReactNode {
  return <Layout viewer={guest}>{props.children}</Layout>;
}
