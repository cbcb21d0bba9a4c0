/**
 * @module
 * `@kiln/core/client`, the browser entry: hydrate a page rendered by `renderToHtml`, read the
 * state the server embedded, and reach the render context from components shared with the
 * server.
 */

export type { ReadStateOptions } from '@kiln/serialize/client';
export { useRenderContext } from './client-context';
export type { DynamicProps } from './dynamic';
export { Dynamic, useDynamic } from './dynamic';
export type { HydrateOptions } from './hydrate';
export { hydrate } from './hydrate';
export { readState } from './read-state';
export type { KilnClientPlugin, RenderContext } from './types';
