/**
 * @module
 * `@kiln/cache/client`: the hooks for components shared by server and browser. In the
 * browser (and in any render the page cache does not make) they do nothing.
 */
export type { PageCacheControl } from './control';

export { useCacheControl, useCacheTags } from './control';
