import type { RenderContext, RequestInfo } from '@kiln/core';

/**
 * The request headers {@link forwardHeaders} forwards when no list is given: `cookie`,
 * `authorization` and `accept-language`.
 *
 * @example
 * ```ts
 * import { defaultForwardedHeaders } from '@kiln/apollo';
 *
 * const names = [...defaultForwardedHeaders, 'x-request-id'];
 * ```
 */
export const defaultForwardedHeaders: readonly string[] = [
  'cookie',
  'authorization',
  'accept-language',
];

/**
 * Picks the request headers the app chooses to pass on to its GraphQL server, so the server
 * answers as the visitor (their session cookie, their token, their language) and the HTML is
 * personalised. Returns a plain object for `HttpLink({ headers })`; headers absent from the
 * request are left out. Only forward what the GraphQL server needs: everything forwarded
 * reaches it as if the visitor had sent it.
 *
 * @param source - the render context, its `request`, or a `Headers` object
 * @param names - header names (case-insensitive); defaults to {@link defaultForwardedHeaders}
 *
 * @example
 * ```ts
 * import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
 * import { apollo, forwardHeaders } from '@kiln/apollo';
 *
 * const plugin = apollo({
 *   makeClient: (ctx) =>
 *     new ApolloClient({
 *       ssrMode: true,
 *       cache: new InMemoryCache(),
 *       link: new HttpLink({
 *         uri: 'http://127.0.0.1:4000/graphql',
 *         headers: forwardHeaders(ctx, ['cookie', 'accept-language']),
 *       }),
 *     }),
 * });
 * ```
 */
export function forwardHeaders(
  source: RenderContext | RequestInfo | Headers,
  names: readonly string[] = defaultForwardedHeaders,
): Record<string, string> {
  const headers = source instanceof Headers ? source : source.headers;
  const forwarded: Record<string, string> = {};
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) forwarded[name.toLowerCase()] = value;
  }
  return forwarded;
}
