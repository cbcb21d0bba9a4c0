import type { RenderDiagnostics, RenderResult } from '@kiln/core';
import { CACHE_PLUGIN } from './page-render';
import { fillPage, type StoredPage } from './stored-page';

/** How the page cache answered one request. */
export type PageCacheStatus = 'hit' | 'miss' | 'stale' | 'bypass';

/** What the page cache did for one request: on `result.cache` and in the diagnostics. */
export interface PageCacheInfo {
  /**
   * `hit`: served from the cache (fresh). `stale`: served from the cache after its TTL, while
   * one background render refreshes it. `miss`: rendered now (and stored when the response
   * allows). `bypass`: the request is not cacheable (method, cookie, authorization, the
   * app's rule); rendered as if there were no cache.
   */
  readonly status: PageCacheStatus;
  /** The store key, when the request is cacheable. */
  readonly key: string | undefined;
  /** Why the request bypassed the cache, or why a rendered response was not stored. */
  readonly reason: string | undefined;
  /** True when this response was written to the store. */
  readonly stored: boolean;
  /** True when this request waited for another request's render of the same key (single flight). */
  readonly coalesced: boolean;
  /** Milliseconds spent waiting for another instance's render (`pageCache({ lock })`), when it did. */
  readonly lockWaitMs?: number;
  /** Milliseconds since the served entry was rendered (hits and stale hits). */
  readonly ageMs: number | undefined;
  /** Tags of the served or stored page. */
  readonly tags: readonly string[];
  /** Milliseconds spent reading the store. */
  readonly lookupMs: number;
  /** The store error met on the way, if any (the request was then rendered). */
  readonly error: string | undefined;
}

/** The result sinks of a complete, buffered response (a hit, or a miss rendered in buffer mode). */
export interface BufferedSinks {
  /**
   * Writes the whole response to a Node writable at once (one corked write of the document's
   * pieces, then `end()`), with `content-length`. On a `ServerResponse` whose headers are not
   * sent yet, sets the status and headers first (headers the app already set on it stay,
   * unless the page sets the same name).
   */
  pipe<W extends NodeJS.WritableStream>(writable: W): W;
  /** A Web `Response` with the status, the headers (then `init.headers`) and the body. */
  toResponse(init?: ResponseInit): Response;
  /** The whole document. */
  text(): Promise<string>;
}

interface HeaderSink {
  headersSent?: boolean;
  statusCode?: number;
  setHeader?(name: string, value: string | number | readonly string[]): unknown;
  cork?(): void;
  uncork?(): void;
}

/** Builds the sinks of a buffered page, whose body is the concatenation of `pieces`. */
export function bufferedSinks(page: {
  readonly status: number;
  readonly headers: Headers;
  readonly pieces: readonly Buffer[];
}): BufferedSinks {
  let length = 0;
  for (const piece of page.pieces) length += piece.length;
  let joined: Buffer | undefined;
  const body = (): Buffer => {
    joined ??=
      page.pieces.length === 1 ? (page.pieces[0] as Buffer) : Buffer.concat(page.pieces, length);
    return joined;
  };
  return {
    pipe(writable) {
      const res = writable as unknown as HeaderSink;
      if (typeof res.setHeader === 'function' && !res.headersSent) {
        res.statusCode = page.status;
        const cookies = page.headers.getSetCookie();
        const seen = new Set<string>();
        page.headers.forEach((_value, name) => {
          if (name === 'set-cookie' || seen.has(name)) return;
          seen.add(name);
          res.setHeader?.(name, page.headers.get(name) as string);
        });
        if (cookies.length > 0) res.setHeader('set-cookie', cookies);
        res.setHeader('content-length', String(length));
      }
      if (page.pieces.length === 1 || typeof res.cork !== 'function') {
        writable.end(body());
        return writable;
      }
      res.cork();
      for (const piece of page.pieces) writable.write(piece);
      writable.end();
      res.uncork?.();
      return writable;
    },
    toResponse(init) {
      const headers = new Headers(page.headers);
      headers.set('content-length', String(length));
      if (init?.headers) {
        new Headers(init.headers).forEach((value, name) => {
          if (name === 'set-cookie') headers.append(name, value);
          else headers.set(name, value);
        });
      }
      const bytes = body();
      return new Response(
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) as Uint8Array<ArrayBuffer>,
        {
          status: init?.status ?? page.status,
          ...(init?.statusText !== undefined ? { statusText: init.statusText } : {}),
          headers,
        },
      );
    },
    async text() {
      return body().toString('utf8');
    },
  };
}

/**
 * `result` as it is, with what a cache did for the request on `cache`: the accessors read the
 * render's own status, headers and diagnostics, and the sinks send the render's document.
 */
export function withCacheInfo<C>(result: RenderResult, cache: C): RenderResult & { cache: C } {
  return {
    get status() {
      return result.status;
    },
    get headers() {
      return result.headers;
    },
    get redirect() {
      return result.redirect;
    },
    get diagnostics() {
      return result.diagnostics;
    },
    finished: result.finished,
    cache,
    pipe: (writable) => result.pipe(writable),
    toResponse: (init) => result.toResponse(init),
    text: () => result.text(),
  };
}

/** A page cache's answer: the fields not given are those of a request the cache did nothing for. */
export function cacheInfo(
  fields: Partial<PageCacheInfo> & { status: PageCacheStatus },
): PageCacheInfo {
  return {
    key: undefined,
    reason: undefined,
    stored: false,
    coalesced: false,
    ageMs: undefined,
    tags: [],
    lookupMs: 0,
    error: undefined,
    ...fields,
  };
}

/**
 * The response of a stored page: its status, its headers with `nonce` put back, `age` (whole
 * seconds since `storedAt`, at `at`) and the cache's `header`, its body as one buffer.
 */
export function resultFromPage(
  page: StoredPage,
  nonce: string | undefined,
  cache: PageCacheInfo,
  at: number,
  header: string | false,
): RenderResult & { cache: PageCacheInfo } {
  const { pieces, headers, bytes } = fillPage(page, nonce);
  headers.set('age', String(Math.max(0, Math.floor((at - page.storedAt) / 1000))));
  if (header) headers.set(header, cache.status);
  const diagnostics: RenderDiagnostics = {
    mode: 'buffer',
    shellMs: 0,
    allReadyMs: 0,
    endMs: 0,
    bytes,
    batches: 0,
    plugins: { [CACHE_PLUGIN]: diagnosticsOf(cache) },
    inputs: { headers: [], cookies: [] },
  };
  const sinks = bufferedSinks({ status: page.status, headers, pieces });
  return {
    status: page.status,
    headers,
    redirect: undefined,
    diagnostics,
    finished: Promise.resolve(diagnostics),
    cache,
    ...sinks,
  };
}

/** The response of a page rendered in buffer mode (`html` is its whole document), sent as one buffer. */
export function resultFromRender(
  rendered: { readonly result: RenderResult; readonly html: string },
  cache: PageCacheInfo,
  header: string | false,
): RenderResult & { cache: PageCacheInfo } {
  const { result, html } = rendered;
  const body = Buffer.from(html);
  const headers = new Headers(result.headers);
  if (header) headers.set(header, cache.status);
  const diagnostics: RenderDiagnostics = {
    ...result.diagnostics,
    plugins: { ...result.diagnostics.plugins, [CACHE_PLUGIN]: diagnosticsOf(cache) },
  };
  const sinks = bufferedSinks({ status: result.status, headers, pieces: [body] });
  return {
    status: result.status,
    headers,
    redirect: result.redirect,
    diagnostics,
    finished: result.finished.then(() => diagnostics),
    cache,
    ...sinks,
  };
}

/** A render the cache let through (`bypass`), streamed as usual, with the cache's header and figures. */
export function bypassResult(
  result: RenderResult,
  cache: PageCacheInfo,
  header: string | false,
): RenderResult & { cache: PageCacheInfo } {
  if (header) result.headers.set(header, 'bypass');
  result.diagnostics.plugins[CACHE_PLUGIN] = diagnosticsOf(cache);
  return withCacheInfo(result, cache);
}

function diagnosticsOf(cache: PageCacheInfo): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {
    status: cache.status,
    stored: cache.stored,
    coalesced: cache.coalesced,
    lookupMs: cache.lookupMs,
    tags: cache.tags.length,
  };
  if (cache.key !== undefined) out.key = cache.key;
  if (cache.reason !== undefined) out.reason = cache.reason;
  if (cache.ageMs !== undefined) out.ageMs = cache.ageMs;
  if (cache.error !== undefined) out.error = cache.error;
  if (cache.lockWaitMs !== undefined) out.lockWaitMs = cache.lockWaitMs;
  return out;
}
