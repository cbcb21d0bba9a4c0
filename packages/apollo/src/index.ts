/**
 * @module
 * `@kiln/apollo`: Apollo Client 4 for Kiln. The server plugin `apollo()` resolves every query
 * a page needs during the render (`useQuery` included, in one pass), sends the results to the
 * browser as they arrive (streaming) or as the final cache (buffering), and releases the
 * request's client afterwards. `forwardHeaders` passes the visitor's cookie, authorization and
 * language on to the GraphQL server. The browser half is `@kiln/apollo/client`.
 */
export type { KilnApolloErrorCode } from './shared/errors';
export { KilnApolloError } from './shared/errors';
export { defaultForwardedHeaders, forwardHeaders } from './server/forward-headers';
export type { ApolloPluginOptions, ApolloStrategy, PersonalOperation } from './server/plugin';
export { apollo } from './server/plugin';
