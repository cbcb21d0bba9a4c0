import { CacheProvider } from '@emotion/react';
import type { KilnClientPlugin } from '@kiln/core/client';
import { createElement, type ReactNode } from 'react';
import { type ClientCache, type ClientCacheOptions, createClientCache } from './adopt';
import { assertKey } from './errors';

/**
 * Options of {@link emotionClient}.
 *
 * @example
 * ```ts
 * import { type EmotionClientOptions, emotionClient } from '@kiln/emotion/client';
 *
 * const options: EmotionClientOptions = { key: 'shop' };
 * const plugin = emotionClient(options);
 * ```
 */
export interface EmotionClientOptions {
  /** The cache key; must match the server plugin's `key`. Default `'css'`. */
  key?: string;
  /** The CSP nonce for style elements created in the browser. Default: the server styles' nonce. */
  nonce?: string;
}

/**
 * The client plugin returned by {@link emotionClient}.
 *
 * @example
 * ```ts
 * import { type EmotionClientPlugin, emotionClient } from '@kiln/emotion/client';
 *
 * const plugin: EmotionClientPlugin = emotionClient();
 * console.log(plugin.cache.key); // 'css'
 * ```
 */
export interface EmotionClientPlugin extends KilnClientPlugin {
  readonly name: 'emotion';
  /** Creates the cache, adopting the server's styles, before hydration starts. */
  before(): void;
  /** Provides the cache to the app. */
  wrap(app: ReactNode): ReactNode;
  /** The browser's emotion cache (created on first use). */
  readonly cache: ClientCache['cache'];
}

/**
 * The client half of `emotion()`: hydrates with an emotion cache that adopts the server's
 * styles, including the ones streamed in after hydration started, so no rule is inserted
 * twice and none is missing. Pass it to `hydrate` from `@kiln/core/client`.
 *
 * @example
 * ```tsx
 * import { hydrate } from '@kiln/core/client';
 * import { emotionClient } from '@kiln/emotion/client';
 * import { App } from './app';
 *
 * hydrate(<App />, { plugins: [emotionClient({ key: 'css' })] });
 * ```
 */
export function emotionClient(options: EmotionClientOptions = {}): EmotionClientPlugin {
  if (options.key !== undefined) assertKey(options.key);
  let client: ClientCache | undefined;
  const cacheOptions: ClientCacheOptions = {};
  if (options.key !== undefined) cacheOptions.key = options.key;
  if (options.nonce !== undefined) cacheOptions.nonce = options.nonce;
  const get = (): ClientCache => {
    client ??= createClientCache(cacheOptions);
    return client;
  };
  return {
    name: 'emotion',
    before: () => {
      get();
    },
    wrap: (app) => createElement(CacheProvider, { value: get().cache }, app),
    get cache() {
      return get().cache;
    },
  };
}
