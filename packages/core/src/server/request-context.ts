import { escapeAttribute, stateScript } from '@kiln/serialize';
import { KilnError } from '../shared/errors';
import {
  noRenderContext,
  useRenderContext as useSharedRenderContext,
} from '../shared/render-context';
import type {
  RedirectInfo,
  RenderContext,
  RenderErrorInfo,
  RenderOptions,
  RequestInfo,
  RequestInputs,
} from '../shared/types';
import { isBotRequest } from './bots';
import { addNonce } from './nonce';
import { normalizeRequest } from './request';
import { trackRequestInputs } from './request-inputs';

/** What a context needs from the render that owns it. */
export interface ContextHost {
  /** True once the first byte went to the sink. */
  readonly headersSent: boolean;
  /** The render's abort signal (created on first use). */
  signal(): AbortSignal;
  inject(html: string): void;
  waitFor(promise: Promise<unknown>): void;
  report(error: unknown, info: RenderErrorInfo): void;
}

const REDIRECT_STATUSES = new Set([300, 301, 302, 303, 307, 308]);

/** The `RenderContext` of one request. Response status, headers and redirect live here. */
export class RequestContext implements RenderContext {
  readonly nonce: string | undefined;
  readonly mode: 'stream' | 'buffer';
  /** The response status the app chose so far. */
  status = 200;
  /** Set by `redirect()` before the first byte. */
  redirectInfo: RedirectInfo | undefined;
  /** The request headers and cookies read through this context. */
  readonly inputs: RequestInputs = { headers: [], cookies: [] };
  private readonly host: ContextHost;
  private readonly options: RenderOptions;
  private bot: boolean | undefined;
  private requestInfo: RequestInfo | undefined;
  private headersObject: Headers | undefined;

  constructor(
    options: RenderOptions,
    mode: 'stream' | 'buffer',
    isBot: boolean | undefined,
    host: ContextHost,
  ) {
    this.options = options;
    this.nonce = options.nonce;
    this.mode = mode;
    this.bot = isBot;
    this.host = host;
  }

  /** Whether the visitor is a crawler (computed on first use when the mode was given). */
  get isBot(): boolean {
    if (this.bot === undefined) {
      this.bot = isBotRequest(this.options);
    }
    (this.inputs as { bot?: boolean }).bot = this.bot;
    return this.bot;
  }

  /** The normalised request, built on first use; reads of its headers and cookies are noted. */
  get request(): RequestInfo {
    if (this.requestInfo === undefined) {
      const request = normalizeRequest(this.options.request, {
        trustProxy: this.options.trustProxy === true,
        report: (problem) => this.host.report(problem, { phase: 'context', level: 'warning' }),
      });
      this.requestInfo = trackRequestInputs(request, this.inputs);
    }
    return this.requestInfo;
  }

  /** The response headers (with `content-type: text/html; charset=utf-8`), built on first use. */
  get responseHeaders(): Headers {
    if (this.headersObject === undefined) {
      this.headersObject = new Headers({ 'content-type': 'text/html; charset=utf-8' });
    }
    return this.headersObject;
  }

  get signal(): AbortSignal {
    return this.host.signal();
  }

  get url(): URL {
    return this.request.url;
  }

  get headers(): Headers {
    return this.request.headers;
  }

  get cookies(): Readonly<Record<string, string>> {
    return this.request.cookies;
  }

  get headersSent(): boolean {
    return this.host.headersSent;
  }

  setStatus(code: number): void {
    if (!Number.isInteger(code) || code < 100 || code > 599) {
      this.host.report(
        new KilnError(
          'KILN_INVALID_STATUS',
          `setStatus(${String(code)}) is not an HTTP status; pass an integer from 100 to 599`,
        ),
        { phase: 'context' },
      );
      return;
    }
    // A resumed shell renders the components above its holes again: asking for the status
    // that already went out is no mistake.
    if (this.host.headersSent && code !== this.status) {
      this.host.report(
        new KilnError(
          'KILN_STATUS_AFTER_FIRST_BYTE',
          `setStatus(${code}) was called after the first byte was sent, so the status stays ${this.status}; set the status in the shell (outside Suspense boundaries) or use mode: 'buffer'`,
        ),
        { phase: 'context' },
      );
      return;
    }
    this.status = code;
  }

  redirect(url: string, code = 302): void {
    const status = REDIRECT_STATUSES.has(code) ? code : 302;
    if (status !== code) {
      this.host.report(
        new KilnError(
          'KILN_INVALID_STATUS',
          `redirect() got status ${String(code)}, which is not a redirect status; using 302. Pass 301, 302, 303, 307 or 308`,
        ),
        { phase: 'context' },
      );
    }
    const location = redirectLocation(url, this.url);
    if (location === undefined) {
      this.host.report(
        new KilnError(
          'KILN_INVALID_REDIRECT',
          `redirect(${JSON.stringify(url.slice(0, 200))}) got a target that is not a URL (control characters such as CR/LF, or a URL that does not parse); the redirect is ignored and the page keeps its status. Pass a path or an absolute URL`,
        ),
        { phase: 'context' },
      );
      return;
    }
    if (this.host.headersSent) {
      // A script can navigate to `javascript:` URLs, which an HTTP `location` never runs.
      const navigable = isHttpUrl(location, this.url);
      this.host.report(
        new KilnError(
          'KILN_REDIRECT_AFTER_FIRST_BYTE',
          navigable
            ? `redirect(${JSON.stringify(url)}) was called after the first byte was sent; the page redirects in the browser instead. Redirect in the shell (outside Suspense boundaries) or use mode: 'buffer' for an HTTP redirect`
            : `redirect(${JSON.stringify(url)}) was called after the first byte was sent, and its target is not an http(s) URL, so the page does not redirect; redirect to an http(s) URL or path, in the shell (outside Suspense boundaries) or with mode: 'buffer'`,
        ),
        { phase: 'context' },
      );
      if (navigable) this.host.inject(clientRedirectHtml(location, this.nonce));
      return;
    }
    try {
      this.responseHeaders.set('location', location);
    } catch (cause) {
      this.host.report(
        new KilnError(
          'KILN_INVALID_REDIRECT',
          `redirect(${JSON.stringify(url.slice(0, 200))}) got a target that cannot be a location header; the redirect is ignored and the page keeps its status. Pass a path or an absolute URL`,
          { cause },
        ),
        { phase: 'context' },
      );
      return;
    }
    this.status = status;
    this.redirectInfo = { url: location, status };
  }

  setHeader(name: string, value: string): void {
    this.writeHeader('set', name, value);
  }

  appendHeader(name: string, value: string): void {
    this.writeHeader('append', name, value);
  }

  setState(key: string, value: unknown): void {
    // The nonce is added by the queue (attribute-escaped), so any nonce string works here.
    this.host.inject(addNonce(stateScript(key, value), this.nonce));
  }

  inject(html: string): void {
    this.host.inject(addNonce(html, this.nonce));
  }

  waitFor(promise: Promise<unknown>): void {
    this.host.waitFor(promise);
  }

  reportError(error: unknown, info: RenderErrorInfo): void {
    this.host.report(error, info);
  }

  private writeHeader(how: 'set' | 'append', name: string, value: string): void {
    if (this.host.headersSent) {
      this.host.report(
        new KilnError(
          'KILN_HEADER_AFTER_FIRST_BYTE',
          `${how === 'set' ? 'setHeader' : 'appendHeader'}(${JSON.stringify(name)}) was called after the first byte was sent and is ignored; set headers in the shell (outside Suspense boundaries) or use mode: 'buffer'`,
        ),
        { phase: 'context' },
      );
      return;
    }
    try {
      this.responseHeaders[how](name, value);
    } catch (cause) {
      this.host.report(
        new KilnError(
          'KILN_INVALID_HEADER',
          `${how === 'set' ? 'setHeader' : 'appendHeader'}(${JSON.stringify(name)}) got an invalid header name or value and is ignored; use a token name and a value without control characters`,
          { cause },
        ),
        { phase: 'context' },
      );
    }
  }
}

/** Whether `url`, resolved against the page's URL, is an http(s) URL a browser may be sent to by a link or a script. */
export function isHttpUrl(url: string, base: URL): boolean {
  try {
    const { protocol } = new URL(url, base);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * The `location` of a redirect to `target`, serialised by the URL standard (non-ASCII
 * characters percent-encoded): a target without a scheme that stays on the request's origin
 * becomes a path (`/日本` → `/%E6%97%A5%E6%9C%AC`), anything else an absolute URL (so
 * `/\evil.test` is written as `http://evil.test/`, as a browser would read it). `undefined`
 * for a target with control characters (CR, LF, tab, NUL…), leading or trailing spaces, or
 * one that does not parse.
 */
export function redirectLocation(target: string, base: URL): string | undefined {
  if (
    target.length === 0 ||
    /[\u0000-\u0020\u007f]/.test(target.charAt(0) + target.charAt(target.length - 1)) ||
    /[\u0000-\u001f\u007f]/.test(target)
  ) {
    return undefined;
  }
  let resolved: URL;
  try {
    resolved = HAS_SCHEME.test(target) ? new URL(target) : new URL(target, base);
  } catch {
    return undefined;
  }
  if (!HAS_SCHEME.test(target) && resolved.origin === base.origin) {
    return resolved.pathname + resolved.search + resolved.hash;
  }
  return resolved.href;
}

/**
 * The client-side redirect written into a page whose first byte was already sent: a script
 * (with the nonce) and, for visitors without JavaScript, a `<meta http-equiv="refresh">`.
 */
export function clientRedirectHtml(url: string, nonce: string | undefined): string {
  const json = JSON.stringify(url).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return addNonce(
    `<script>location.replace(${json})</script><noscript><meta http-equiv="refresh" content="0;url=${escapeAttribute(url)}"></noscript>`,
    nonce,
  );
}

/**
 * The request's `RenderContext`, inside a component rendered by `renderToHtml`: read the
 * request (`url`, `headers`, `cookies`) and shape the response (`setStatus`, `redirect`,
 * `setHeader`) from any component. The same rule as `useRenderContext` from
 * `@kiln/core/client`: on the server outside a `renderToHtml` render it throws a `KilnError`
 * with code `KILN_NO_RENDER_CONTEXT`; in a browser it would return `undefined`, but this
 * server entry does not load in a browser, so here the context is always there. In
 * components that also run in the browser, import it from `@kiln/core/client`.
 *
 * @example
 * ```tsx
 * import { useRenderContext } from '@kiln/core';
 *
 * function NotFound() {
 *   const ctx = useRenderContext();
 *   ctx.setStatus(404);
 *   return <h1>Nothing at {ctx.url.pathname}</h1>;
 * }
 * ```
 */
export function useRenderContext(): RenderContext {
  const ctx = useSharedRenderContext();
  if (ctx === undefined) throw noRenderContext();
  return ctx;
}
