/**
 * @module
 * `@kiln/cache/apollo`: a cache of public GraphQL results shared across requests, as an
 * Apollo link ({@link dataCache}). Needs `@apollo/client` 4 (and its peer `rxjs`).
 */
export type {
  DataCache,
  DataCacheLinkOptions,
  DataCacheOptions,
  DataCachePolicy,
  DataCacheStats,
} from './data-cache';

export { DataCacheLink, dataCache } from './data-cache';
