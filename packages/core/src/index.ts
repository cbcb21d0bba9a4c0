/**
 * @module
 * `@kiln/core`, the server entry: render a React 19 app to an HTML response inside any Node
 * HTTP server, streamed to browsers and complete for crawlers, with a per-request context,
 * an injection queue for plugins, status codes, redirects, headers and a CSP nonce.
 */

export { DEFAULT_TIMEOUT_MS } from './server/abort';
export { addNonce } from './server/nonce';
export { renderToHtml } from './server/render';
export type { NormalizeOptions, RequestInput } from './server/request';
export { normalizeRequest, parseHost } from './server/request';
export { useRenderContext } from './server/request-context';
export type { KilnErrorCode } from './shared/errors';
export { KilnError } from './shared/errors';
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
  TemplateOptions,
} from './shared/types';

// Fails loudly when this server entry is bundled into browser code.
import { assertNotInBrowser, type Globals } from './server/server-only';

assertNotInBrowser(globalThis as Globals);
