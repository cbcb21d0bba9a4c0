/**
 * @module
 * `@kiln/core`, the server entry: render a React 19 app to an HTML response inside any Node
 * HTTP server, streamed to browsers and complete for crawlers, with a per-request context,
 * an injection queue for plugins, status codes, redirects, headers and a CSP nonce.
 */

// Render: a React app to an HTML response, and what it is given and gives back.
export { DEFAULT_TIMEOUT_MS } from './server/abort';
export { renderToHtml } from './server/render';
export type {
  ErrorDocumentInfo,
  RedirectInfo,
  RenderDiagnostics,
  RenderErrorInfo,
  RenderMode,
  RenderOptions,
  RenderResult,
  TemplateOptions,
} from './shared/types';

// The request context: what components read of the request and set on the response.
export { useRenderContext } from './server/request-context';
export type { RenderContext, RequestInfo, RequestInputs } from './shared/types';
export { trackRequestInputs } from './server/request-inputs';

// Plugins: the hooks of a server plugin and of its browser half.
export type { KilnClientPlugin, KilnPlugin, PluginInstance } from './shared/types';

// Partial pre-rendering (experimental): a static shell rendered once, the holes per visitor.
export type { DynamicProps } from './shared/dynamic';
export { Dynamic, isPrerendering, requestInput, useDynamic } from './shared/dynamic';
export type { PrerenderOptions, Shell } from './server/partial';
export { prerenderShell, resumeShell } from './server/partial';

// Requests: the normalised request and the strict host parser, for servers that need them.
export type { NormalizeOptions, RequestInput } from './server/request';
export { normalizeRequest, parseHost } from './server/request';

// Bots: the one rule that tells a crawler from a browser.
export { detectBot } from './server/bots';

// HTML: the CSP nonce on injected tags, and the escapers for a plugin's own markup.
export { escapeAttribute, escapeText } from '@kiln/serialize';
export { addNonce } from './server/nonce';

// Errors: the error class and its stable codes.
export type { KilnErrorCode } from './shared/errors';
export { KilnError } from './shared/errors';

// Fails loudly when this server entry is bundled into browser code.
import { assertNotInBrowser, type Globals } from './server/server-only';

assertNotInBrowser(globalThis as Globals);
