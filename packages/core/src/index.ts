/**
 * @module
 * `@kiln/core`, the server entry: render a React 19 app to an HTML response inside any Node
 * HTTP server, streamed to browsers and complete for crawlers, with a per-request context,
 * an injection queue for plugins, status codes, redirects, headers and a CSP nonce.
 */

export { detectBot } from './bots';
export { useRenderContext } from './context';
export type { DynamicProps } from './dynamic';
export { Dynamic, isPrerendering, requestInput, useDynamic } from './dynamic';
export type { KilnErrorCode } from './errors';
export { KilnError } from './errors';
export { addNonce } from './nonce';
export type { PrerenderOptions, Shell } from './partial';
export { prerenderShell, resumeShell } from './partial';
export { DEFAULT_TIMEOUT_MS, renderToHtml } from './render';
export type { NormalizeOptions, RequestInput } from './request';
export { normalizeRequest, parseHost } from './request';
export { trackRequestInputs } from './request-inputs';
export type { TemplateOptions } from './template';
export type {
  ErrorDocumentInfo,
  KilnClientPlugin,
  KilnPlugin,
  PluginInstance,
  RedirectInfo,
  RenderContext,
  RenderDiagnostics,
  RenderErrorInfo,
  RenderMode,
  RenderOptions,
  RenderResult,
  RequestInfo,
  RequestInputs,
} from './types';
