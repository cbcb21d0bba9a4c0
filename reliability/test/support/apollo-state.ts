import { InMemoryCache } from '@apollo/client';
import { type DocumentNode, parse } from 'graphql';

/** The buffered state `@kiln/apollo` embeds: the cache, then the results kept apart from it. */
export interface ApolloBufferedState {
  cache: unknown;
  d?: Record<number, string>;
  w?: [number, Record<string, unknown> | undefined, unknown, string?, boolean?][];
}

/**
 * The cache a browser gets from a buffered page's Apollo state, built with Apollo's own API as
 * `apolloClient()` builds it: the server's cache restored, then its remaining writes in order.
 */
export function browserCacheOf(state: ApolloBufferedState): Record<string, unknown> {
  const cache = new InMemoryCache();
  cache.restore(state.cache as never);
  const docs = new Map<number, DocumentNode>();
  for (const [docId, variables, result, dataId, overwrite] of state.w ?? []) {
    let query = docs.get(docId);
    if (!query) {
      const text = state.d?.[docId];
      if (text === undefined)
        throw new Error(`the state writes document ${docId} but has no text for it`);
      query = parse(text);
      docs.set(docId, query);
    }
    cache.write({ query, variables, result, dataId: dataId ?? 'ROOT_QUERY', overwrite });
  }
  return cache.extract() as Record<string, unknown>;
}
