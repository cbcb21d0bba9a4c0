/**
 * The parts of the shared demo (`@kiln/example-app/components`) that the routes reuse: its
 * pages, components, queries and cookie rules.
 */
export {
  AddToCart,
  CartProvider,
  cleanVisitorName,
  Home,
  Layout,
  NotFound,
  type PageResponse,
  PageResponseProvider,
  PICKS_QUERY,
  PRODUCT_QUERY,
  Price,
  StockBadge,
  Unavailable,
  visitorCookie,
} from '@kiln/example-app/components';
