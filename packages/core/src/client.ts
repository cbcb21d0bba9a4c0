/**
 * @module
 * `@kiln/core/client`, the browser entry: hydrate a page rendered by `renderToHtml`, read the
 * state the server embedded, and reach the render context from components shared with the
 * server.
 */

// Hydration: hydrate the page the server rendered, with the client halves of the plugins.
export type { HydrateOptions } from './client/hydrate';
export { hydrate } from './client/hydrate';
export type { KilnClientPlugin } from './shared/types';

// State: read what the server embedded with ctx.setState.
export type { ReadStateOptions } from '@kiln/serialize/client';
export { readState } from './client/read-state';

// Partial pre-rendering: the holes a cached shell leaves for each visitor.
export type { DynamicProps } from './shared/dynamic';
export { Dynamic, useDynamic } from './shared/dynamic';

// The request context, in components that run on both sides (undefined in the browser).
export { useRenderContext } from './shared/render-context';
export type { RenderContext } from './shared/types';
