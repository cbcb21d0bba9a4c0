import type { IncomingMessage } from 'node:http';
import type { ReactNode } from 'react';

/** How the document is produced. `auto` buffers for crawlers and streams for browsers. */
export type RenderMode = 'auto' | 'stream' | 'buffer';

/** The request as Kiln sees it, normalised from a Web `Request` or a Node `IncomingMessage`. */
export interface RequestInfo {
  /**
   * Absolute URL of the request. Its path and query are the request target as the server
   * received it (an absolute-form target's path and query); its host is the `Host` header
   * (or, with `trustProxy`, `X-Forwarded-Host`) when that is a valid `host[:port]`, and
   * `localhost` otherwise.
   */
  readonly url: URL;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Request headers. */
  readonly headers: Headers;
  /** Cookies parsed from the `cookie` header; a malformed header yields the cookies that parse. */
  readonly cookies: Readonly<Record<string, string>>;
}

/** An error reported through `onError`, with where it happened. */
export interface RenderErrorInfo {
  /** Where the error came from: the shell, a Suspense boundary, a plugin phase, or a context call. */
  readonly phase: 'shell' | 'boundary' | 'plugin' | 'context' | 'stream' | 'timeout' | 'abort';
  /** The plugin that threw, when `phase` is `plugin`. */
  readonly plugin?: string;
  /** React's component stack, when React gives one. */
  readonly componentStack?: string;
  /**
   * `'warning'` for a problem Kiln handled without changing the response, such as an invalid
   * `Host` header (`KILN_INVALID_HOST`) replaced by `localhost`. Any client can cause these:
   * log them at a lower level than errors. Without `onError` they go to `console.warn`.
   */
  readonly level?: 'warning';
}

/**
 * The per-request context shared by the render, the components (through
 * `useRenderContext()`) and the plugins. One is created for every `renderToHtml` call and
 * never shared between requests.
 */
export interface RenderContext {
  /** The normalised request. */
  readonly request: RequestInfo;
  /** Shorthand for `request.url`. */
  readonly url: URL;
  /** Shorthand for `request.headers`. */
  readonly headers: Headers;
  /** Shorthand for `request.cookies`. */
  readonly cookies: Readonly<Record<string, string>>;
  /** The CSP nonce of this response, if any. Kiln puts it on every script and style it writes. */
  readonly nonce: string | undefined;
  /** Whether the request comes from a crawler (by user agent, or the `isBot` option). */
  readonly isBot: boolean;
  /** The mode this render resolved to. */
  readonly mode: 'stream' | 'buffer';
  /** Aborted when the render times out, the caller's signal aborts, or the client disconnects. */
  readonly signal: AbortSignal;
  /** True once the first byte of the document has been handed to the sink; status and headers are fixed from then on. */
  readonly headersSent: boolean;

  /** Sets the response status. After the first byte it is reported through `onError` and ignored. */
  setStatus(code: number): void;
  /**
   * Redirects. Before the first byte the result becomes a 3xx with `location` and a small body.
   * After it, the error is reported and a client-side redirect is written into the page.
   */
  redirect(url: string, code?: number): void;
  /** Sets a response header (replacing a previous value). After the first byte it is reported and ignored. */
  setHeader(name: string, value: string): void;
  /** Appends a response header value (e.g. a second `set-cookie`). Same timing rules as `setHeader`. */
  appendHeader(name: string, value: string): void;
  /**
   * Embeds `value` for the client under `key` (read it with `readState(key)`), serialized by
   * `@kiln/serialize`. May be called while streaming; the script goes out before React's next batch.
   */
  setState(key: string, value: unknown): void;
  /**
   * Queues HTML to be written before React's next batch of writes (or before `</body>` when
   * the render has finished). `<script>` and `<style>` tags get the nonce here.
   */
  inject(html: string): void;
  /** Holds back the end of the document (`</body></html>`) until `promise` settles. */
  waitFor(promise: Promise<unknown>): void;
  /** Reports an error through the `onError` option (once per error object). */
  reportError(error: unknown, info: RenderErrorInfo): void;
}

/**
 * A server plugin. `setup` runs once per request and returns the request's instance; all
 * per-request state lives in that instance, never in the plugin object or its module.
 *
 * Phases, in order: `setup` → `wrap` → `prepare` → render (`head` before the first byte,
 * `flush` before each React batch while streaming) → `end` before `</body>` → `dispose`.
 */
export interface KilnPlugin {
  /** A unique name, used in error messages and diagnostics. */
  readonly name: string;
  /** Creates this request's instance of the plugin. */
  setup(ctx: RenderContext): PluginInstance | Promise<PluginInstance>;
}

/** The per-request half of a plugin. Every hook is optional. */
export interface PluginInstance {
  /** Wraps the app in providers. Called once, outermost plugin first. */
  wrap?(app: ReactNode): ReactNode;
  /** Runs before the render that produces HTML (e.g. a data prefetch pass). */
  prepare?(app: ReactNode, ctx: RenderContext): Promise<void>;
  /** HTML for `<head>`, written in the first bytes (after React's shell rendered). */
  head?(): string;
  /** HTML to write before React's next batch while streaming (e.g. styles and data produced since the last flush). */
  flush?(): string;
  /** HTML written before `</body>`, once everything else was written. May wait for pending work. */
  end?(): string | Promise<string>;
  /** Releases per-request resources. Always called once, also after an error or an abort. */
  dispose?(): void | Promise<void>;
  /** Figures for `RenderResult.diagnostics.plugins[name]` (read when the render completes). */
  diagnostics?(): Record<string, number | string | boolean>;
  /**
   * Partial pre-rendering (experimental): whether the plugin has work in flight that the page
   * waits for (e.g. GraphQL requests). `undefined` when it has none, else a promise that
   * resolves once it has none. A pre-render ends when no plugin is busy and React has
   * nothing left to do but the holes.
   */
  idle?(): Promise<void> | undefined;
  /**
   * Partial pre-rendering (experimental): after the pre-render, what the shell already sent
   * (e.g. the CSS rules or the query results in the prelude), as a JSON value. It is stored
   * with the shell and handed to `restore()` on every resume.
   */
  snapshot?(): unknown;
  /**
   * Partial pre-rendering (experimental): on resume, before the app renders, the value that
   * `snapshot()` returned after the pre-render (`undefined` if it had none). The plugin must
   * not send again what the prelude holds.
   */
  restore?(snapshot: unknown): void;
}

/** Timings and sizes of one render, for logging and benchmarks. */
export interface RenderDiagnostics {
  /** The mode the render resolved to. */
  mode: 'stream' | 'buffer';
  /** Milliseconds from the call to the shell being ready. */
  shellMs: number;
  /** Milliseconds from the call to all content being ready (undefined while still streaming). */
  allReadyMs: number | undefined;
  /** Bytes of HTML written so far. */
  bytes: number;
  /** Number of React write batches. */
  batches: number;
  /** Milliseconds from the call to the end of the document (undefined while still streaming). */
  endMs: number | undefined;
  /** Per plugin: time spent in its hooks (`ms`) and the figures it reports. */
  plugins: Record<string, Record<string, number | string | boolean>>;
  /**
   * The request headers and cookies the app and plugins read through the render context
   * (`ctx.headers`, `ctx.cookies`, `ctx.request`), e.g. headers passed on by
   * `forwardHeaders(ctx)`. A cache uses it to know what the page depends on.
   */
  inputs: RequestInputs;
}

/**
 * The request inputs one render read through its context, lower-case header names and cookie
 * names in the order first read; `*` when the app listed them all.
 */
export interface RequestInputs {
  readonly headers: readonly string[];
  readonly cookies: readonly string[];
  /**
   * The answer the render got when it asked `ctx.isBot` (undefined when it never asked): a
   * page that asked differs between crawlers and browsers.
   */
  readonly bot?: boolean;
}

/** Where a redirect sends the visitor, as decided before the first byte. */
export interface RedirectInfo {
  /** The `location` of the redirect. */
  readonly url: string;
  /** The 3xx status. */
  readonly status: number;
}

/** What the error document callback receives. */
export interface ErrorDocumentInfo {
  /** The status of the response (500 for a shell error). */
  readonly status: number;
  /** True when `NODE_ENV` is not `production`: messages and stacks may be shown. */
  readonly dev: boolean;
  /** The response's CSP nonce, for any inline script or style in the document. */
  readonly nonce: string | undefined;
}

/** Options of `renderToHtml`. All are optional. */
export interface RenderOptions {
  /** The incoming request: a Web `Request` or a Node `IncomingMessage`. */
  request?: Request | IncomingMessage;
  /** Server plugins, outermost first (the first plugin's `wrap` is the outermost provider). */
  plugins?: readonly KilnPlugin[];
  /** `stream`, `buffer`, or `auto` (default: buffer for crawlers, stream for browsers). */
  mode?: RenderMode;
  /**
   * An HTML template with markers (`<!--app-head-->`, `<!--app-html-->`), for servers that own
   * their `index.html`. Without it, the element renders the whole document (`<html>`).
   */
  template?: string | TemplateOptions;
  /** ES module URLs React loads (with `async` and a nonce) to start the client. */
  bootstrapModules?: string[];
  /** Classic script URLs React loads to start the client. */
  bootstrapScripts?: string[];
  /** Inline script React writes to start the client. */
  bootstrapScriptContent?: string;
  /**
   * The CSP nonce of this response; put on React's scripts and styles and every injected tag.
   * It must be 1 to 256 base64 or base64url characters (`isValidNonce` of `@kiln/serialize`);
   * another value is reported as `KILN_INVALID_NONCE` and the response is the 500 error document.
   */
  nonce?: string;
  /** Aborts the render after this many milliseconds; pending boundaries fall back to client rendering. Default 10 000. */
  timeoutMs?: number;
  /** Aborts the render when it aborts; pending boundaries fall back to client rendering. */
  signal?: AbortSignal;
  /** Called once per error: shell, boundary, plugin, late context calls, timeout, abort. Default: `console.error`. */
  onError?: (error: unknown, info: RenderErrorInfo) => void;
  /** Overrides crawler detection: a fixed answer or a test of the user agent. Default: the `isbot` package. */
  isBot?: boolean | ((userAgent: string) => boolean);
  /** React's `progressiveChunkSize` while streaming (buffer mode always inlines boundaries). */
  progressiveChunkSize?: number;
  /** React's `identifierPrefix` for `useId`; the client must use the same. */
  identifierPrefix?: string;
  /**
   * Behind a proxy the app trusts: take `ctx.url`'s host and scheme from `X-Forwarded-Host`
   * and `X-Forwarded-Proto` (first values; same strict `host[:port]` rule, scheme `http` or
   * `https`), for a Node request and a Web `Request` alike. Default `false`: these headers
   * are ignored, as any client can send them. Pass the same value to `pageCache` and
   * `partialCache` renders: their keys hold the host and scheme the page is rendered for.
   */
  trustProxy?: boolean;
  /** Builds the HTML of the error document sent for a shell error. */
  errorDocument?: (error: unknown, info: ErrorDocumentInfo) => string;
}

/**
 * The outcome of `renderToHtml`: the response's status and headers, and three ways to send
 * the document. Use exactly one sink, once.
 */
export interface RenderResult {
  /** The HTTP status (200, a status set by the app, 3xx for a redirect, 500 for a shell error). */
  readonly status: number;
  /** The response headers, with `content-type: text/html; charset=utf-8`. */
  readonly headers: Headers;
  /** Set when the app redirected before the first byte. */
  readonly redirect: RedirectInfo | undefined;
  /** Timings and sizes; complete once `finished` resolved. */
  readonly diagnostics: RenderDiagnostics;
  /** Resolves with the final diagnostics when the document was fully sent (or the render ended early). Never rejects. */
  readonly finished: Promise<RenderDiagnostics>;
  /**
   * Writes the document into a Node writable. A `ServerResponse` gets status and headers first
   * (unless already sent) and its `flush()` (compression middleware) is called after each batch.
   * A closed response aborts the render.
   */
  pipe<W extends NodeJS.WritableStream>(writable: W): W;
  /** A Web `Response` whose body streams the document; cancelling the body aborts the render. */
  toResponse(init?: ResponseInit): Response;
  /** The whole document as a string. */
  text(): Promise<string>;
}

/** A browser plugin, the client half of a server plugin. */
export interface KilnClientPlugin {
  /** A unique name (usually the server plugin's). */
  readonly name: string;
  /** Runs before hydration starts (e.g. restore a cache); awaited. */
  before?(): void | Promise<void>;
  /** Wraps the app in providers, in the same order as the server plugin's `wrap`. */
  wrap?(app: ReactNode): ReactNode;
}

/**
 * An HTML template the server owns (for example Vite's `index.html`), with markers where the
 * head tags and the app go.
 */
export interface TemplateOptions {
  /** The template HTML. */
  readonly html: string;
  /**
   * Where React's hoisted head tags (`<title>`, `<meta>`, `<link>`) and plugin head HTML go.
   * Default `<!--app-head-->`; when the template has no such marker, they go before `</head>`.
   */
  readonly headMarker?: string;
  /** Where the app goes, inside its container element. Default `<!--app-html-->`. */
  readonly appMarker?: string;
}
