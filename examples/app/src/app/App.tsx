import { type ReactNode, useEffect } from 'react';
import { CartProvider } from './cart';
import { Home } from './pages/Home';
import { NotFound } from './pages/NotFound';
import { PartialHome } from './pages/PartialHome';
import { PartialProductPage } from './pages/PartialProductPage';
import { ProductPage } from './pages/ProductPage';
import { Redirect } from './pages/Redirect';
import { matchRoute } from './routes';

/**
 * The demo shop, the whole document (React 19 hoists each page's `<title>` and `<meta>` into
 * the head). `url` is the request's URL on the server and `location.href` in the browser;
 * `onHydrated` runs in the browser once the page is interactive. `partial` picks the pages built
 * for partial pre-rendering; the server and the browser must agree on it.
 */
export function App(props: {
  url: string;
  onHydrated?: () => void;
  /** The front page and product pages built for partial pre-rendering (`KILN_CACHE=partial`). */
  partial?: boolean;
}): ReactNode {
  const { onHydrated } = props;
  useEffect(() => {
    onHydrated?.();
  }, [onHydrated]);
  const route = matchRoute(new URL(props.url, 'http://localhost'));
  let page: ReactNode;
  switch (route.page) {
    case 'home':
      page = props.partial ? <PartialHome /> : <Home />;
      break;
    case 'product':
      page = props.partial ? <PartialProductPage id={route.id} /> : <ProductPage id={route.id} />;
      break;
    case 'moved':
      page = <Redirect to={route.to} status={301} />;
      break;
    case 'sign-in':
      page = <Redirect to="/" status={303} visitor={route.name ?? null} />;
      break;
    case 'sign-out':
      page = <Redirect to="/" status={303} visitor={null} />;
      break;
    case 'not-found':
      page = <NotFound />;
      break;
  }
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </head>
      <body>
        <CartProvider>{page}</CartProvider>
      </body>
    </html>
  );
}
