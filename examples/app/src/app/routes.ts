import { cleanVisitorName } from '../graphql/visitor';

/** The pages of the demo, matched from a URL. */
export type Route =
  | { page: 'home' }
  | { page: 'product'; id: string }
  | { page: 'sign-in'; name: string | undefined }
  | { page: 'sign-out' }
  | { page: 'moved'; to: string }
  | { page: 'not-found' };

/**
 * Matches a URL to a page.
 *
 * @example
 * matchRoute(new URL('http://x/products/kettle')); // { page: 'product', id: 'kettle' }
 */
export function matchRoute(url: URL): Route {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { page: 'home' };
  const product = /^\/products\/([a-z0-9-]+)$/.exec(path);
  if (product) return { page: 'product', id: product[1]! };
  if (path === '/products' || path === '/shop') return { page: 'moved', to: '/' };
  if (path === '/signin')
    return { page: 'sign-in', name: cleanVisitorName(url.searchParams.get('name')) };
  if (path === '/signout') return { page: 'sign-out' };
  return { page: 'not-found' };
}
