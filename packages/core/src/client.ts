/**
 * @module
 * `@kiln/core/client`, the browser entry: hydrate a page rendered by `renderToHtml`, read the
 * state the server embedded, and reach the render context from components shared with the
 * server.
 */

export type { ReadStateOptions } from '@kiln/serialize/client';
export type { HydrateOptions } from './client/hydrate';
export { hydrate } from './client/hydrate';
export { readState } from './client/read-state';
export { useRenderContext } from './shared/render-context';
export type { KilnClientPlugin, RenderContext } from './shared/types';
