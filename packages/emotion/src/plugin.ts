import type { EmotionCache } from '@emotion/cache';
import { CacheProvider } from '@emotion/react';
import type { KilnPlugin, PluginInstance, RenderContext } from '@kiln/core';
import { createElement } from 'react';
import { collectStyles } from './collector';
import { createCache } from './create-cache';
import { assertKey, KilnEmotionError } from './errors';

/**
 * Options of the {@link emotion} server plugin.
 *
 * @example
 * ```ts
 * import createCache from '@emotion/cache';
 * import { type EmotionOptions, emotion } from '@kiln/emotion';
 *
 * const options: EmotionOptions = { key: 'shop', cache: (ctx) => createCache({ key: 'shop', nonce: ctx.nonce }) };
 * const plugin = emotion(options);
 * ```
 */
export interface EmotionOptions {
  /**
   * The emotion cache key: the prefix of class names and the first word of `data-emotion`.
   * Must match the key of the client plugin. Default `'css'`.
   */
  key?: string;
  /**
   * Creates the request's emotion cache, for custom stylis plugins or container options. Called
   * once per request; it must return a new cache every time (a cache shared between requests
   * would mix their styles). Its `key` must equal `key` when both are given. Its `nonce`, if
   * any, goes on the style elements; it must equal the `nonce` given to `renderToHtml` when both
   * are given.
   */
  cache?: (ctx: RenderContext) => EmotionCache;
}

/**
 * The nonce of the request's style elements: the cache's own (`createCache({ nonce })`, emotion's
 * documented way to set one) or else the one given to `renderToHtml`, which core adds to every
 * tag. Two different nonces cannot both be right, so that is a configuration error.
 */
function styleNonce(cache: EmotionCache, ctx: RenderContext): string | undefined {
  const own = cache.nonce || undefined;
  if (own !== undefined && ctx.nonce && own !== ctx.nonce) {
    throw new KilnEmotionError(
      'EMOTION_NONCE_MISMATCH',
      "the emotion cache has a nonce that differs from the nonce given to renderToHtml, so one of them would be blocked by the Content-Security-Policy; create the cache with the response's nonce (`cache: (ctx) => createCache({ key, nonce: ctx.nonce })`) or leave the nonce out of one of them",
    );
  }
  return own;
}

/**
 * The emotion plugin for `renderToHtml`: every request gets its own emotion cache, and the
 * page's critical CSS is taken from the styles the render inserted into it (never by scanning
 * the HTML).
 *
 * - Buffered renders get all styles in `<head>`, before the first byte: one
 *   `<style data-emotion="<key>-global <name>">` per `<Global>`, then one
 *   `<style data-emotion="<key> <ids…>">` with class rules and keyframes in insertion order.
 * - Streamed renders send the shell's styles in `<head>` and, before each later React batch,
 *   the styles inserted since the previous batch, so late Suspense boundaries are styled the
 *   moment they appear.
 * - CSS is escaped so `</style` in user data cannot close the element. Every tag carries the
 *   nonce of the cache (`createCache({ nonce })`) or else the request's nonce; when both are
 *   given they must be equal (`EMOTION_NONCE_MISMATCH` otherwise).
 * - `injectGlobal` and `keyframes` of an `@emotion/css` instance whose cache is given through
 *   `cache` go in the cache's element, where the browser's instance adopts them.
 *
 * Pair it with `emotionClient()` from `@kiln/emotion/client`.
 *
 * @example
 * ```tsx
 * import { renderToHtml } from '@kiln/core';
 * import { emotion } from '@kiln/emotion';
 * import { App } from './app';
 *
 * export async function handle(request: Request): Promise<Response> {
 *   const result = await renderToHtml(<App />, { request, plugins: [emotion()] });
 *   return result.toResponse();
 * }
 * ```
 */
export function emotion(options: EmotionOptions = {}): KilnPlugin {
  const key = options.key;
  if (key !== undefined) assertKey(key);
  const makeCache = options.cache;
  if (makeCache !== undefined && typeof makeCache !== 'function') {
    throw new KilnEmotionError(
      'EMOTION_INVALID_CACHE',
      'the `cache` option must be a function that returns a new emotion cache for each request; pass `cache: () => createCache({ key })`',
    );
  }
  return {
    name: 'emotion',
    setup(ctx: RenderContext): PluginInstance {
      const cache = makeCache
        ? makeCache(ctx)
        : createCache({ key: key ?? 'css', nonce: ctx.nonce });
      if (key !== undefined && cache.key !== key) {
        throw new KilnEmotionError(
          'EMOTION_INVALID_CACHE',
          `the cache returned by \`cache\` has the key "${cache.key}" but the plugin was given key "${key}"; use the same key in both (and in emotionClient())`,
        );
      }
      const nonce = styleNonce(cache, ctx);
      const collector = collectStyles(cache);
      return {
        wrap: (app) => createElement(CacheProvider, { value: cache }, app),
        head: () => collector.drain(nonce),
        flush: () => collector.drain(nonce),
        diagnostics: () => ({ key: cache.key, ...collector.stats() }),
        // Partial pre-rendering: the prelude holds every rule the shell inserted; a resume marks
        // them inserted, so the path to each hole inserts (and sends) only the hole's new rules.
        snapshot: () => Object.keys(cache.inserted),
        restore: (snapshot) => {
          if (snapshot === undefined) return;
          if (!Array.isArray(snapshot) || !snapshot.every((name) => typeof name === 'string')) {
            throw new KilnEmotionError(
              'EMOTION_INVALID_CACHE',
              'the shell holds no list of emotion rule names; pre-render the shell again with this version of @kiln/emotion',
            );
          }
          for (const name of snapshot) cache.inserted[name] ??= true;
        },
      };
    },
  };
}
