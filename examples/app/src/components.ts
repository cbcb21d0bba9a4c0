/**
 * The demo's pages, components, queries and cookie rules, for example servers that bring
 * their own routing (React Router) and compose the pages themselves.
 */
export { CartProvider } from './app/cart';
export { AddToCart } from './app/components/AddToCart';
export { Layout } from './app/components/Layout';
export { Price } from './app/components/Price';
export { StockBadge } from './app/components/StockBadge';
export { Unavailable } from './app/components/Unavailable';
export { Home } from './app/pages/Home';
export { NotFound } from './app/pages/NotFound';
export { PICKS_QUERY, PRODUCT_QUERY } from './app/queries';
export { type PageResponse, PageResponseProvider } from './app/response';
export { cleanVisitorName, visitorCookie } from './graphql/visitor';
