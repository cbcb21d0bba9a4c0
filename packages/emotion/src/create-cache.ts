import createCacheExport, { type EmotionCache, type Options } from '@emotion/cache';

/**
 * `@emotion/cache`'s `createCache`, whichever way the module system hands it over. Native ESM
 * and bundlers give the function as the default export. The CommonJS build of this package
 * (esbuild's Node-compatible interop, because the sources are ES modules) gives the whole
 * `module.exports` object instead, whose `default` is the function.
 */
export const createCache: (options: Options) => EmotionCache =
  typeof createCacheExport === 'function'
    ? createCacheExport
    : (createCacheExport as unknown as { default: (options: Options) => EmotionCache }).default;
