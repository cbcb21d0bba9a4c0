/**
 * @module
 * `@kiln/apollo/client`: the browser half of `@kiln/apollo`. `apolloClient()` is a client
 * plugin for `hydrate()` from `@kiln/core/client`: it fills the browser's Apollo cache from
 * what the server sent (streamed results the moment they arrive, or the final cache of a
 * buffered page) so hydration makes no GraphQL request and shows no loading state.
 */
export type { ApolloClientPlugin, ApolloClientPluginOptions } from './client/plugin';
export { apolloClient } from './client/plugin';
export type { KilnApolloErrorCode } from './shared/errors';
export { KilnApolloError } from './shared/errors';
