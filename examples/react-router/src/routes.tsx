/** @jsxImportSource @emotion/react */
import type { ApolloClient } from '@apollo/client';
import { css, keyframes } from '@emotion/react';
import styled from '@emotion/styled';
import { type ReactNode, Suspense, useEffect } from 'react';
import {
  Await,
  data,
  isRouteErrorResponse,
  Link,
  type LoaderFunctionArgs,
  Outlet,
  type RouteObject,
  redirect,
  useLoaderData,
  useRouteError,
} from 'react-router';
import {
  AddToCart,
  CartProvider,
  cleanVisitorName,
  Home,
  Layout,
  NotFound,
  PICKS_QUERY,
  PRODUCT_QUERY,
  Price,
  StockBadge,
  Unavailable,
  visitorCookie,
} from './shared';

/** What the routes need: the Apollo client of this request (server) or of the page (browser). */
export interface RouteOptions {
  client: ApolloClient;
  /** Runs in the browser once the document is hydrated. */
  onHydrated?: () => void;
}

/** The whole document around every page (React 19 hoists each page's `<title>` into the head). */
function Document(props: { onHydrated?: () => void; children: ReactNode }): ReactNode {
  const { onHydrated } = props;
  useEffect(() => {
    onHydrated?.();
  }, [onHydrated]);
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </head>
      <body>
        <CartProvider>{props.children}</CartProvider>
      </body>
    </html>
  );
}

/** A loader's thrown 404 (or a URL no route matches) shows the shared 404 page; anything else, the outage page. */
function RouteError(): ReactNode {
  const error = useRouteError();
  return isRouteErrorResponse(error) && error.status === 404 ? <NotFound /> : <Unavailable />;
}

type Picks = { id: string; reason: string; product: { id: string; name: string; hue: number } }[];

const fadeIn = keyframes`
  from { opacity: 0; transform: translateY(4px); }
  to { opacity: 1; transform: none; }
`;

const Panel = styled.aside`
  margin-top: 32px;
  padding: 20px 24px;
  min-height: 150px;
  border-radius: 14px;
  background: linear-gradient(135deg, #fff7e6, #fdebd3);
  border: 1px solid #f3d3a4;
  h2 {
    margin: 0 0 12px;
    font-size: 18px;
  }
`;

const Pick = styled.li<{ hue: number }>`
  display: inline-block;
  margin: 0 12px 8px 0;
  padding: 8px 14px;
  border-radius: 10px;
  background: #fff;
  border-left: 6px solid hsl(${(p) => p.hue} 65% 50%);
  animation: ${fadeIn} 0.4s ease-out both;
`;

const muted = css`
  margin: 0;
  color: #78716c;
`;

/**
 * Staff picks from a deferred loader value: the shell goes out with the fallback, the list
 * streams in when the loader's promise settles. Links navigate in the browser (no reload).
 */
function DeferredPicks(props: { picks: Promise<Picks> }): ReactNode {
  return (
    <Panel>
      <h2>Staff picks</h2>
      <Suspense
        fallback={
          <p css={muted} data-testid="picks-loading">
            Asking the staff…
          </p>
        }
      >
        <Await
          resolve={props.picks}
          errorElement={<p css={muted}>Staff picks are unavailable right now.</p>}
        >
          {(picks: Picks) => (
            <ul css={{ margin: 0, padding: 0, listStyle: 'none' }} data-testid="picks">
              {picks.map((pick) => (
                <Pick key={pick.id} hue={pick.product.hue}>
                  <Link to={`/products/${pick.product.id}`} data-testid={`pick-${pick.product.id}`}>
                    {pick.product.name}
                  </Link>
                  <small css={{ display: 'block', color: '#78716c' }}>{pick.reason}</small>
                </Pick>
              ))}
            </ul>
          )}
        </Await>
      </Suspense>
    </Panel>
  );
}

const notFound = () => data(null, { status: 404, statusText: 'Not Found' });
const unavailable = () => data(null, { status: 503, statusText: 'Service Unavailable' });

/**
 * Loads a product page: the product itself before anything is sent (a missing one is a 404,
 * an unreachable API a 503), the slow staff picks deferred.
 */
async function productLoader(client: ApolloClient, { params }: LoaderFunctionArgs) {
  const id = params.id ?? '';
  if (!/^[a-z0-9-]{1,64}$/.test(id)) throw notFound();
  // Not awaited: the promise goes into the loader data and the page streams it in.
  const picks: Promise<Picks> = client
    .query({ query: PICKS_QUERY })
    .then((result) => result.data?.picks ?? []);
  // Picks that fail are shown as such by <Await>; this keeps an early failure from going unhandled.
  picks.catch(() => {});
  const result = await client
    .query({ query: PRODUCT_QUERY, variables: { id }, fetchPolicy: 'network-only' })
    .catch(() => {
      throw unavailable();
    });
  if (!result.data) throw unavailable();
  const { product, viewer, serverTime } = result.data;
  if (!product) throw notFound();
  return { product, viewer, serverTime, picks };
}

type ProductData = Awaited<ReturnType<typeof productLoader>>;

/** A product page from its loader's data (the front page uses Apollo's hooks instead). */
function ProductRoute(): ReactNode {
  const { product, viewer, serverTime, picks } = useLoaderData() as ProductData;
  return (
    <Layout viewer={viewer} serverTime={serverTime}>
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
        <h1 css={{ marginTop: 0 }} data-testid="product-name">
          {product.name}
        </h1>
        <p>{product.description}</p>
        <Price price={product.price} listPrice={product.listPrice} />
        <div css={{ margin: '12px 0' }}>
          <StockBadge stock={product.stock} />
        </div>
        <p css={{ color: '#52525b' }} data-live="views" data-testid="views">
          Viewed {product.views} times.
        </p>
        <AddToCart productId={product.id} />
        <p>
          <Link to="/" data-testid="back">
            Back to the shop
          </Link>
        </p>
      </article>
      <DeferredPicks picks={picks} />
    </Layout>
  );
}

/** Signing in or out sets the visitor cookie and sends the browser to the front page (303). */
function signInLoader(name: string | undefined) {
  return redirect('/', { status: 303, headers: { 'set-cookie': visitorCookie(name) } });
}

/**
 * The shop's routes in React Router's data mode, the same on the server
 * (`createStaticHandler`) and in the browser (`createBrowserRouter`). Loaders fetch through
 * the given Apollo client, so their data also lands in its cache.
 *
 * @example
 * const handler = createStaticHandler(createRoutes({ client }));
 */
export function createRoutes(options: RouteOptions): RouteObject[] {
  const { client } = options;
  return [
    {
      id: 'root',
      path: '/',
      element: (
        <Document onHydrated={options.onHydrated}>
          <Outlet />
        </Document>
      ),
      errorElement: (
        <Document onHydrated={options.onHydrated}>
          <RouteError />
        </Document>
      ),
      children: [
        { index: true, element: <Home /> },
        {
          id: 'product',
          path: 'products/:id',
          loader: (args) => productLoader(client, args),
          element: <ProductRoute />,
        },
        { path: 'products', loader: () => redirect('/', 301) },
        { path: 'shop', loader: () => redirect('/', 301) },
        {
          path: 'signin',
          loader: ({ request }) =>
            signInLoader(cleanVisitorName(new URL(request.url).searchParams.get('name'))),
        },
        { path: 'signout', loader: () => signInLoader(undefined) },
      ],
    },
  ];
}
