/**
 * @module
 * `@kiln/core`, the server entry: render a React 19 app to an HTML response inside any Node
 * HTTP server, streamed to browsers and complete for crawlers, with a per-request context,
 * an injection queue for plugins, status codes, redirects, headers and a CSP nonce.
 */

export { DEFAULT_TIMEOUT_MS } from './abort';
export { useRenderContext } from './context';
export type { KilnErrorCode } from './errors';
export { KilnError } from './errors';
export { addNonce } from './nonce';
export { renderToHtml } from './render';
export type { NormalizeOptions, RequestInput } from './request';
export { normalizeRequest, parseHost } from './request';
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
} from './types';
