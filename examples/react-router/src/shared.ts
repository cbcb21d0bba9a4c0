/**
 * The parts of the shared demo (`examples/app`) that the routes reuse: its pages, components,
 * queries and cookie rules. `@kiln/example-app` exports only its server and test support, so
 * they are taken from its sources here, in this one place.
 */
export { CartProvider } from '../../app/src/app/cart';
export { AddToCart } from '../../app/src/app/components/AddToCart';
export { Layout } from '../../app/src/app/components/Layout';
export { Price } from '../../app/src/app/components/Price';
export { StockBadge } from '../../app/src/app/components/StockBadge';
export { Unavailable } from '../../app/src/app/components/Unavailable';
export { Home } from '../../app/src/app/pages/Home';
export { NotFound } from '../../app/src/app/pages/NotFound';
export { PICKS_QUERY, PRODUCT_QUERY } from '../../app/src/app/queries';
export { type PageResponse, PageResponseProvider } from '../../app/src/app/response';
export { cleanVisitorName, visitorCookie } from '../../app/src/graphql/visitor';
