/**
 * Providers for rendering the shop without Kiln: an `ApolloProvider` for the request's client and
 * an emotion `CacheProvider` for the request's emotion cache.
 */
import type { ApolloClient } from '@apollo/client';
import { ApolloProvider } from '@apollo/client/react';
import createCache, { type EmotionCache } from '@emotion/cache';
import { CacheProvider } from '@emotion/react';
import type { ReactNode } from 'react';

/** The emotion key (class prefix) the shop renders with. */
export const EMOTION_KEY = 'shop';

/**
 * A fresh emotion cache for one request. emotion only extracts (instead of writing `<style>`
 * tags next to each element) once `createEmotionServer(cache)` from
 * `@emotion/server/create-instance` has been called on it.
 */
export function makeEmotionCache(): EmotionCache {
  return createCache({ key: EMOTION_KEY });
}

/** Wraps `page` in the request's Apollo client and emotion cache. */
export function withProviders(
  page: ReactNode,
  { client, emotionCache }: { client: ApolloClient; emotionCache: EmotionCache },
): ReactNode {
  return (
    <ApolloProvider client={client}>
      <CacheProvider value={emotionCache}>{page}</CacheProvider>
    </ApolloProvider>
  );
}
