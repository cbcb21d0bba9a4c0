import type {
  KilnPlugin,
  RenderContext,
  RenderDiagnostics,
  RenderOptions,
  RenderResult,
  RequestInfo,
  RequestInputs,
} from '@kiln/core';
import { detectBot, normalizeRequest, renderToHtml, trackRequestInputs } from '@kiln/core';
import { isValidNonce } from '@kiln/serialize';
import { createElement, type ReactNode } from 'react';
import {
  type CollectedControl,
  controlContext,
  createControl,
  inactiveControl,
  type PageCacheControl,
} from './control';
import { KilnCacheError } from './errors';
import { acquireOrWait, type RenderLease, type RenderLock } from './lock';
import {
  abstractNonce,
  isAbstractableNonce,
  joinHeader,
  type NonceTemplate,
  noncePieces,
  placeholderNonce,
  splitHeader,
} from './nonce';
import {
  bufferedSinks,
  type PageCacheInfo,
  type PageCacheStatus,
  withCacheInfo,
} from './page-result';
import { detachedRequest } from './request';
import { SingleFlight } from './single-flight';
import type { CacheEntry, InvalidateTarget, JsonValue, Store } from './store';

/** Options of {@link pageCache}. */
export interface PageCacheOptions {
  /** Where pages are kept: {@link memoryStore} for one process, {@link redisStore} to share. */
  store: Store;
  /** How long a stored page is fresh, in milliseconds. */
  ttl: number;
  /**
   * How long after `ttl` a stored page may still be served while one background render
   * refreshes it, in milliseconds. Default 0 (an expired page is a miss).
   */
  staleWhileRevalidate?: number;
  /**
   * One render per key across instances: a lock shared by every instance (see
   * {@link redisLock}). A cold key requested on many instances at once is rendered by the
   * lock's owner while the others wait for the stored page (looking every `pollMs`); they
   * render themselves if the owner stores nothing or dies (its lock then expires). A stale
   * page is refreshed only by the instance that takes the lock. Without it, single flight is
   * per process.
   */
  lock?: RenderLock;
  /**
   * Request headers the page depends on (e.g. `['accept-language']`): their values are part
   * of the default key, so each value gets its own entry.
   */
  vary?: readonly string[];
  /**
   * The query parameters that make up the default key (e.g. `['page', 'sort']`), in this
   * order; any other parameter (`utm_source`, a cache-buster) is left out of the key, so it
   * neither creates entries nor changes the page served. Only list parameters the page reads:
   * a page that reads an unlisted one would be stored with that value and served for all.
   * Default: the whole query string is part of the key.
   */
  query?: readonly string[];
  /**
   * The key of a request (without the namespace). Default: path and query, then the `vary`
   * headers, each on its own line. Return `undefined` to leave this request uncached.
   */
  key?: (request: RequestInfo) => string | undefined;
  /**
   * Whether a request may be served from and stored in the cache. Replaces the default rule:
   * `GET` with no `cookie` and no `authorization` header. A response is stored only if its
   * status is 200 and it sets no cookie, whatever this says.
   */
  cacheable?: (request: RequestInfo) => boolean;
  /** Name of the response header that says `hit`, `miss`, `stale` or `bypass`; `false` for none. Default `x-kiln-cache`. */
  header?: string | false;
  /** Prefix of the store keys of this cache. Default `page:`. */
  namespace?: string;
  /** The clock, in milliseconds since the epoch (shared by every instance on a Redis store). Default `Date.now`. */
  now?: () => number;
  /** Called with store failures and background render errors; requests never fail because of them. */
  onError?: (error: unknown) => void;
}

/**
 * The result of {@link PageCache.render}: a `RenderResult` (same status, headers and sinks;
 * the cache header included unless turned off; the cache's figures under
 * `diagnostics.plugins['kiln-cache']`) plus what the cache did. Hits and cacheable misses
 * are complete in memory and sent as one buffer; bypassed requests stream as usual.
 */
export interface PageResult extends RenderResult {
  /** What the cache did for this request. */
  readonly cache: PageCacheInfo;
}

/** A page cache around `renderToHtml`; see {@link pageCache}. */
export interface PageCache {
  /** The store the pages live in. */
  readonly store: Store;
  /**
   * Renders `element` for `options.request`, or serves it from the cache. Takes the options
   * of `renderToHtml` and returns a result with the same sinks (`pipe`, `toResponse`, `text`).
   */
  render(element: ReactNode, options: RenderOptions): Promise<PageResult>;
  /**
   * Drops pages. `{ key }` is a key as `key()` builds it (with the default key: path and
   * query, every `vary` variant included); `{ prefix }` every page whose key starts with it
   * (e.g. `/products/`); a string or `{ tag }` every entry of the store carrying the tag.
   * Resolves how many entries were removed.
   */
  invalidate(target: InvalidateTarget): Promise<number>;
  /**
   * The control of the page this cache is rendering for `ctx` (an inactive one when it is
   * not rendering that request for the cache): lets plugins and links created per request,
   * such as the data cache link, tag the page or shorten its freshness.
   */
  controlFor(ctx: RenderContext): PageCacheControl;
  /** Resolves when background renders and store writes started so far have settled. */
  idle(): Promise<void>;
}

const CACHE_PLUGIN = 'kiln-cache';
const FORMAT = 1;
const NOT_STORED_HEADERS = new Set([
  'age',
  'date',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'set-cookie',
]);

interface StoredPage {
  readonly status: number;
  readonly headers: readonly (readonly [string, readonly string[]])[];
  readonly template: NonceTemplate;
  readonly nonce: boolean;
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
  readonly tags: readonly string[];
  /** Set when the render asked `ctx.isBot`: the page is only for crawlers, or only for browsers. */
  readonly variant: Variant | undefined;
}

type Variant = 'bot' | 'browser';

interface Rendered {
  readonly result: RenderResult;
  readonly html: string;
  readonly control: CollectedControl;
  readonly nonce: string | undefined;
  readonly incomplete: string | undefined;
  /** The request inputs the request rule and the key read: what the cache decided on. */
  readonly decided: RequestInputs;
}

/** A background refresh of a stale page. */
interface Refresh {
  key: string;
  request: RequestInfo;
  decided: RequestInputs;
  element: ReactNode;
  renderOptions: RenderOptions;
  nonce: boolean;
}

/**
 * Creates a page cache: anonymous pages rendered once and served to everyone from memory
 * or Redis, safe by default.
 *
 * - A request is cacheable when it is a `GET` without `cookie` or `authorization` headers
 *   (or when `cacheable(request)` says so); anything else is rendered as usual (`bypass`).
 * - A cacheable miss renders in buffer mode, so bots and browsers get the same complete
 *   document, sent as one buffer. It is stored only if the status is 200, no cookie is set,
 *   `cache-control` is not `private`/`no-store`/`no-cache`, and no component called
 *   `useCacheControl().noStore()`.
 * - Concurrent misses of one key render once; the others wait and are served the result.
 * - After `ttl` a page is served stale for `staleWhileRevalidate` while one background
 *   render refreshes it.
 * - CSP nonces stay unique: the nonce is cut out of the stored HTML and headers, and each
 *   hit gets the nonce of its own `options.nonce` put back (a slice-and-concat, no parsing).
 * - Tags come from components (`useCacheTags`, `useCacheControl().tag`) and drive
 *   `invalidate(tag)` on every instance sharing the store.
 * - Store failures (Redis down) never fail a request: it is rendered without the cache.
 *
 * @example
 * ```tsx
 * import { randomBytes } from 'node:crypto';
 * import { createServer } from 'node:http';
 * import { memoryStore, pageCache } from '@kiln/cache';
 * import type { ReactNode } from 'react';
 *
 * declare function App(): ReactNode; // renders the whole document
 *
 * const pages = pageCache({
 *   store: memoryStore(),
 *   ttl: 60_000,
 *   staleWhileRevalidate: 10 * 60_000,
 *   vary: ['accept-language'],
 * });
 *
 * createServer(async (req, res) => {
 *   const nonce = randomBytes(16).toString('base64');
 *   res.setHeader('content-security-policy', `script-src 'nonce-${nonce}'`);
 *   const result = await pages.render(<App />, { request: req, nonce });
 *   result.pipe(res); // x-kiln-cache: hit | miss | stale | bypass
 * }).listen(3000);
 *
 * // when product 42 changes
 * await pages.invalidate('product:42');
 * ```
 */
export function pageCache(options: PageCacheOptions): PageCache {
  const { store } = options;
  const ttl = options.ttl;
  const swr = options.staleWhileRevalidate ?? 0;
  const lock = options.lock;
  if (!store || typeof store.get !== 'function') {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'pageCache() needs a store; pass { store: memoryStore() }',
    );
  }
  if (!(ttl > 0) || !(swr >= 0)) {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'pageCache({ ttl, staleWhileRevalidate }) must be milliseconds (ttl > 0, staleWhileRevalidate >= 0)',
    );
  }
  const namespace = options.namespace ?? 'page:';
  const vary = (options.vary ?? []).map((name) => name.toLowerCase());
  const query = options.query ? [...options.query] : undefined;
  const header = options.header === undefined ? 'x-kiln-cache' : options.header;
  const now = options.now ?? Date.now;
  const onError = options.onError;
  const flights = new SingleFlight<StoredPage | undefined>();
  const controls = new WeakMap<RenderContext, CollectedControl>();
  const pending = new Set<Promise<unknown>>();

  const report = (error: unknown): void => {
    if (onError) onError(error);
  };
  const track = (work: Promise<unknown>): void => {
    const settled = work.catch(report).finally(() => pending.delete(settled));
    pending.add(settled);
  };

  const keyOf = (request: RequestInfo): { key: string } | { invalid: string } => {
    if (options.key) {
      const key = options.key(request);
      return key === undefined ? { invalid: 'key() returned undefined' } : { key };
    }
    const invalid = invalidKeyPart(request, vary);
    if (invalid !== undefined) return { invalid };
    let key = `${request.url.pathname}${searchOf(request.url)}\nhost=${request.url.host.toLowerCase()}`;
    for (const name of vary) key += `\n${name}=${request.headers.get(name) ?? ''}`;
    return { key };
  };

  const searchOf = (url: URL): string => {
    if (!query) return url.search;
    const kept = new URLSearchParams();
    for (const name of query)
      for (const value of url.searchParams.getAll(name)) kept.append(name, value);
    const search = kept.toString();
    return search === '' ? '' : `?${search}`;
  };

  const bypassReason = (request: RequestInfo): string | undefined => {
    if (options.cacheable)
      return options.cacheable(request) ? undefined : 'cacheable() returned false';
    if (request.method !== 'GET') return `method ${request.method}`;
    if (request.headers.has('authorization')) return 'authorization header';
    if (request.headers.has('cookie')) return 'cookie header';
    return undefined;
  };

  const renderForCache = async (
    element: ReactNode,
    renderOptions: RenderOptions,
    nonce: string | undefined,
    decided: RequestInputs,
  ): Promise<Rendered> => {
    const control = createControl();
    const plugin: KilnPlugin = {
      name: CACHE_PLUGIN,
      setup: (ctx) => {
        controls.set(ctx, control);
        return {
          wrap: (app) => createElement(controlContext().Provider, { value: control }, app),
          dispose: () => {
            controls.delete(ctx);
          },
        };
      },
    };
    let incomplete: string | undefined;
    const onError = renderOptions.onError;
    const result = await renderToHtml(element, {
      ...renderOptions,
      nonce,
      mode: 'buffer',
      plugins: [plugin, ...(renderOptions.plugins ?? [])],
      onError: (error, errorInfo) => {
        if (errorInfo.phase !== 'context' && errorInfo.phase !== 'plugin') {
          incomplete ??= `${errorInfo.phase} error`;
        }
        if (onError) onError(error, errorInfo);
        else console.error(error);
      },
    });
    const html = await result.text();
    return { result, html, control, nonce, incomplete, decided };
  };

  /**
   * The request inputs every request sharing a key agrees on: the headers the key read (the
   * `vary` headers, or what `key()` read) and the cookies the request rule or the key read.
   * The default rule lets no request with a cookie or an authorization header through, so
   * those are absent for all of them.
   */
  const decidedInputs = (ruled: RequestInputs, held: RequestInputs): RequestInputs =>
    options.cacheable
      ? { headers: held.headers, cookies: [...ruled.cookies, ...held.cookies] }
      : { headers: [...held.headers, 'cookie', 'authorization'], cookies: ['*'] };

  /**
   * Why a page whose render read `read` may not be stored under its key, if so: it read a
   * request header or cookie that requests sharing the key may not agree on. The default key
   * holds the host.
   */
  const unkeyedInput = (read: RequestInputs, decided: RequestInputs): string | undefined => {
    const allHeaders = decided.headers.includes('*');
    for (const name of read.headers) {
      if (allHeaders || decided.headers.includes(name)) continue;
      if (name === 'host' && !options.key) continue;
      return name === '*'
        ? 'the render listed every request header (read only the ones you name in pageCache({ vary }))'
        : `the render read the request header ${name}, which the key does not hold (add it to pageCache({ vary }), or stop reading it, e.g. name the headers in forwardHeaders(ctx, names))`;
    }
    if (allHeaders || decided.headers.includes('cookie') || decided.cookies.includes('*')) {
      return undefined;
    }
    for (const name of read.cookies) {
      if (decided.cookies.includes(name)) continue;
      return `the render read the cookie ${name}, which neither the key nor cacheable() looks at (let cacheable() refuse requests that have it, or stop reading it)`;
    }
    return undefined;
  };

  const notStorableReason = (rendered: Rendered): string | undefined => {
    const { result, control, nonce } = rendered;
    if (result.redirect) return 'redirect';
    if (rendered.incomplete) return `incomplete render (${rendered.incomplete})`;
    if (result.status !== 200) return `status ${result.status}`;
    if (result.headers.getSetCookie().length > 0 || result.headers.has('set-cookie')) {
      return 'set-cookie header';
    }
    const cacheControl = result.headers.get('cache-control')?.toLowerCase() ?? '';
    if (/(^|[\s,])(private|no-store|no-cache)([\s,=]|$)/.test(cacheControl)) {
      return `cache-control: ${cacheControl}`;
    }
    const shared = /(?:^|[\s,])s-maxage\s*=\s*"?(\d+)/.exec(cacheControl);
    const maxAge = /(?:^|[\s,])max-age\s*=\s*"?(\d+)/.exec(cacheControl);
    if ((shared ?? maxAge) && Number((shared ?? maxAge)![1]) === 0) {
      return `cache-control: ${cacheControl}`;
    }
    const varies = result.headers.get('vary');
    if (varies !== null) {
      for (const part of varies.split(',')) {
        const name = part.trim().toLowerCase();
        if (name === '') continue;
        if (name === '*' || (!vary.includes(name) && !(name === 'host' && !options.key))) {
          return `vary: ${varies} (add the header to pageCache({ vary }) or build the key)`;
        }
      }
    }
    const unkeyed = unkeyedInput(result.diagnostics.inputs, rendered.decided);
    if (unkeyed) return unkeyed;
    if (control.noStoreReason) return `noStore: ${control.noStoreReason}`;
    if (control.maxAgeMs !== undefined && control.maxAgeMs <= 0) return 'maxAge(0)';
    if (nonce !== undefined && !isAbstractableNonce(nonce)) {
      return 'the nonce is not base64 of at least 16 characters';
    }
    return undefined;
  };

  const toStoredPage = (rendered: Rendered): StoredPage => {
    const { result, html, control, nonce } = rendered;
    const headers: (readonly [string, readonly string[]])[] = [];
    result.headers.forEach((value, name) => {
      if (!NOT_STORED_HEADERS.has(name) && name !== header) {
        headers.push([name, splitHeader(value, nonce)]);
      }
    });
    const storedAt = now();
    const fresh = control.maxAgeMs === undefined ? ttl : Math.min(ttl, control.maxAgeMs);
    return {
      status: result.status,
      headers,
      template: abstractNonce(html, nonce),
      nonce: nonce !== undefined,
      storedAt,
      freshUntil: storedAt + fresh,
      staleUntil: storedAt + fresh + swr,
      tags: [...control.tags],
      variant: variantOf(result.diagnostics.inputs.bot),
    };
  };

  /**
   * Stores a page under its key; a crawler or browser variant also under its variant key, so
   * that the other kind of visitor, finding it under the key, looks there instead.
   */
  const writeAll = async (key: string, page: StoredPage): Promise<void> => {
    if (page.variant) await write(variantKey(key, page.variant), page);
    await write(key, page);
  };

  const write = async (key: string, page: StoredPage): Promise<void> => {
    const meta: { [key: string]: JsonValue } = {
      v: FORMAT,
      status: page.status,
      headers: page.headers.map(([name, parts]) => [name, [...parts]]),
      cuts: [...page.template.cuts],
      nonce: page.nonce,
      storedAt: page.storedAt,
      freshUntil: page.freshUntil,
      staleUntil: page.staleUntil,
    };
    if (page.variant) meta.variant = page.variant;
    const retain = Math.max(1, page.staleUntil - page.storedAt);
    await store.set(key, { value: page.template.body, meta, tags: page.tags }, retain);
  };

  const lead = (key: string, work: Promise<Rendered>, lease?: RenderLease): Promise<Rendered> => {
    const flight = flights.start(key);
    const settle = flight.settle;
    const release = (): void => {
      flight.end();
      if (lease) track(lease.release());
    };
    return work.then(
      (rendered) => {
        const reason = notStorableReason(rendered);
        if (reason !== undefined) {
          settle(undefined);
          release();
          return rendered;
        }
        const page = toStoredPage(rendered);
        settle(page);
        track(writeAll(key, page).finally(release));
        return rendered;
      },
      (error: unknown) => {
        settle(undefined);
        release();
        throw error;
      },
    );
  };

  const revalidate = (job: Refresh): void => {
    if (flights.has(job.key)) return;
    if (!lock) {
      revalidateNow(job);
      return;
    }
    // Only the instance that takes the lock refreshes; the others keep serving stale.
    track(
      lock.acquire(job.key).then(
        async (lease) => {
          if (!lease) return;
          // Another instance may have refreshed it and released the lock just before.
          const current = flights.has(job.key) ? undefined : (await read(job.key)).page;
          if (flights.has(job.key) || (current && now() < current.freshUntil)) {
            await lease.release();
          } else revalidateNow(job, lease);
        },
        (error: unknown) => report(error),
      ),
    );
  };

  const revalidateNow = (
    { key, request, decided, element, renderOptions, nonce }: Refresh,
    lease?: RenderLease,
  ): void => {
    const { signal: _signal, ...rest } = renderOptions;
    const work = renderForCache(
      element,
      { ...rest, request: detachedRequest(request) },
      nonce ? placeholderNonce() : undefined,
      decided,
    );
    track(
      lead(key, work, lease).then(async (rendered) => {
        // A page that is no longer storable (now a 404, now private) must stop being served;
        // a render that failed or timed out leaves the stale page in place until it expires.
        const reason = notStorableReason(rendered);
        if (reason !== undefined && rendered.incomplete === undefined) await store.delete(key);
      }),
    );
  };

  const info = (fields: Partial<PageCacheInfo> & { status: PageCacheStatus }): PageCacheInfo => ({
    key: undefined,
    reason: undefined,
    stored: false,
    coalesced: false,
    ageMs: undefined,
    tags: [],
    lookupMs: 0,
    error: undefined,
    ...fields,
  });

  const withHeader = (headers: Headers, status: PageCacheStatus): Headers => {
    if (header) headers.set(header, status);
    return headers;
  };

  const fromPage = (
    page: StoredPage,
    nonce: string | undefined,
    cache: PageCacheInfo,
  ): PageResult => {
    const fill = page.nonce ? (nonce ?? placeholderNonce()) : '';
    const pieces = noncePieces(page.template, fill);
    const headers = new Headers();
    for (const [name, parts] of page.headers) headers.append(name, joinHeader(parts, fill));
    headers.set('age', String(Math.max(0, Math.floor((now() - page.storedAt) / 1000))));
    withHeader(headers, cache.status);
    const diagnostics: RenderDiagnostics = {
      mode: 'buffer',
      shellMs: 0,
      allReadyMs: 0,
      endMs: 0,
      bytes: page.template.body.length + Buffer.byteLength(fill) * page.template.cuts.length,
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
  };

  const fromRendered = (rendered: Rendered, cache: PageCacheInfo): PageResult => {
    const { result, html } = rendered;
    const body = Buffer.from(html);
    const headers = withHeader(new Headers(result.headers), cache.status);
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
  };

  const bypass = async (
    element: ReactNode,
    renderOptions: RenderOptions,
    cache: PageCacheInfo,
  ): Promise<PageResult> => {
    const result = await renderToHtml(element, renderOptions);
    withHeader(result.headers, 'bypass');
    result.diagnostics.plugins[CACHE_PLUGIN] = diagnosticsOf(cache);
    return withCacheInfo(result, cache);
  };

  const read = async (
    key: string,
  ): Promise<{ page: StoredPage | undefined; lookupMs: number; error: string | undefined }> => {
    const started = performance.now();
    let entry: CacheEntry | undefined;
    let error: string | undefined;
    try {
      entry = await store.get(key);
    } catch (cause) {
      report(cause);
      error = (cause as Error)?.message ?? String(cause);
    }
    let page: StoredPage | undefined;
    if (entry) {
      page = decodePage(entry);
      if (!page)
        report(
          new KilnCacheError(
            'CORRUPT_ENTRY',
            `the page entry "${key}" is not in the format this version writes; it is rendered again`,
          ),
        );
    }
    return { page, lookupMs: performance.now() - started, error };
  };

  return {
    store,
    async render(element, renderOptions) {
      if (!renderOptions?.request) {
        return bypass(
          element,
          renderOptions ?? {},
          info({ status: 'bypass', reason: 'no request' }),
        );
      }
      if (renderOptions.nonce !== undefined && !isValidNonce(renderOptions.nonce)) {
        // A hit writes the nonce as stored bytes, with no escaping: only a nonce of base64
        // characters may be put there.
        return bypass(
          element,
          renderOptions,
          info({
            status: 'bypass',
            reason: 'invalid nonce: use 1 to 256 base64 or base64url characters',
          }),
        );
      }
      const raw = normalizeRequest(renderOptions.request);
      const ruled: RequestInputs = { headers: [], cookies: [] };
      const reason = bypassReason(trackRequestInputs(raw, ruled));
      if (reason !== undefined) {
        return bypass(element, renderOptions, info({ status: 'bypass', reason }));
      }
      const held: RequestInputs = { headers: [], cookies: [] };
      const keyed = keyOf(trackRequestInputs(raw, held));
      const decided = decidedInputs(ruled, held);
      if ('invalid' in keyed) {
        return bypass(element, renderOptions, info({ status: 'bypass', reason: keyed.invalid }));
      }
      const key = namespace + keyed.key;
      const nonce = renderOptions.nonce;
      const found = await read(key);
      const { lookupMs, error } = found;
      let page = found.page;
      // A page that differs between crawlers and browsers serves only its own kind of visitor.
      const mine = (): Variant =>
        detectBot(raw.headers.get('user-agent'), renderOptions.isBot) ? 'bot' : 'browser';
      if (page?.variant && page.variant !== mine())
        page = (await read(variantKey(key, mine()))).page;

      if (page && (page.nonce || nonce === undefined)) {
        const at = now();
        const ageMs = at - page.storedAt;
        if (at < page.freshUntil) {
          return fromPage(
            page,
            nonce,
            info({ status: 'hit', key, ageMs, lookupMs, tags: page.tags }),
          );
        }
        if (at < page.staleUntil) {
          revalidate({
            key,
            request: raw,
            decided,
            element,
            renderOptions,
            nonce: page.nonce,
          });
          return fromPage(
            page,
            nonce,
            info({ status: 'stale', key, ageMs, lookupMs, tags: page.tags }),
          );
        }
      }

      const flight = flights.get(key);
      if (flight) {
        const shared = await flight;
        if (
          shared &&
          (shared.nonce || nonce === undefined) &&
          (!shared.variant || shared.variant === mine())
        ) {
          return fromPage(
            shared,
            nonce,
            info({
              status: 'hit',
              key,
              ageMs: now() - shared.storedAt,
              lookupMs,
              tags: shared.tags,
              coalesced: true,
              error,
            }),
          );
        }
      }

      let lease: RenderLease | undefined;
      if (lock && !flights.has(key)) {
        const turn = await acquireOrWait(
          lock,
          key,
          async () => {
            let stored = (await read(key)).page;
            if (stored?.variant && stored.variant !== mine())
              stored = (await read(variantKey(key, mine()))).page;
            return stored && (stored.nonce || nonce === undefined) && now() < stored.staleUntil
              ? stored
              : undefined;
          },
          report,
        );
        if (turn && 'found' in turn) {
          return fromPage(
            turn.found,
            nonce,
            info({
              status: now() < turn.found.freshUntil ? 'hit' : 'stale',
              key,
              ageMs: now() - turn.found.storedAt,
              lookupMs,
              tags: turn.found.tags,
              coalesced: true,
              lockWaitMs: turn.waitedMs,
            }),
          );
        }
        lease = turn?.lease;
      }
      const work = renderForCache(element, renderOptions, nonce, decided);
      if (lease && flights.has(key)) track(lease.release());
      const rendered = await (flights.has(key) ? work : lead(key, work, lease));
      const notStored = notStorableReason(rendered);
      return fromRendered(
        rendered,
        info({
          status: 'miss',
          key,
          lookupMs,
          error,
          reason: notStored,
          stored: notStored === undefined,
          tags: [...rendered.control.tags],
        }),
      );
    },
    async invalidate(target) {
      if (typeof target === 'string') return store.deleteTag(target);
      if ('tag' in target) return store.deleteTag(target.tag);
      if ('prefix' in target) {
        if (target.prefix === '') return store.deletePrefix(namespace);
        return store.deletePrefix(namespace + target.prefix);
      }
      if ('key' in target) {
        const key = namespace + target.key;
        let removed = 0;
        if (options.key) {
          for (const one of [key, variantKey(key, 'bot'), variantKey(key, 'browser')])
            if (await store.delete(one)) removed++;
        } else {
          if (await store.delete(key)) removed++;
          removed += await store.deletePrefix(`${key}\n`);
        }
        return removed;
      }
      throw new KilnCacheError(
        'INVALID_TARGET',
        'invalidate() needs a tag string, { key }, { prefix } or { tag }; pass one of those',
      );
    },
    controlFor(ctx) {
      return controls.get(ctx) ?? inactiveControl;
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

/** Longest path and query, host, and `vary` header value the default key accepts. */
const MAX_TARGET = 2048;
const MAX_HOST = 255;
const MAX_VARY_VALUE = 1024;
const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
/** `host[:port]`: a DNS name or IPv4 address, or a bracketed IPv6 address, then an optional port. */
const HOST_PATTERN = new RegExp(
  `^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::[0-9]{1,5})?$`,
  'i',
);
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why the parts of the default key of `request` cannot be trusted, or `undefined` when they
 * can: the host must be a strict `host[:port]` (the raw `Host` header too, when there is one),
 * and no part may hold control characters or be over-long.
 */
export function invalidKeyPart(request: RequestInfo, vary: readonly string[]): string | undefined {
  const host = request.url.host;
  if (host.length > MAX_HOST || !HOST_PATTERN.test(host)) return 'invalid key: host';
  const raw = request.headers.get('host');
  if (raw !== null && (raw.length > MAX_HOST || !HOST_PATTERN.test(raw))) {
    return 'invalid key: host header is not host[:port]';
  }
  const target = request.url.pathname + request.url.search;
  if (target.length > MAX_TARGET)
    return `invalid key: path and query over ${MAX_TARGET} characters`;
  if (CONTROL.test(target)) return 'invalid key: control character in the path or query';
  for (const name of vary) {
    const value = request.headers.get(name) ?? '';
    if (value.length > MAX_VARY_VALUE) {
      return `invalid key: ${name} header over ${MAX_VARY_VALUE} characters`;
    }
    if (CONTROL.test(value)) return `invalid key: control character in the ${name} header`;
  }
  return undefined;
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

function decodePage(entry: CacheEntry): StoredPage | undefined {
  const meta = entry.meta as Record<string, unknown>;
  if (meta.v !== FORMAT || typeof meta.status !== 'number') return undefined;
  const cuts = meta.cuts;
  const headers = meta.headers;
  if (!Array.isArray(cuts) || !Array.isArray(headers)) return undefined;
  const body = typeof entry.value === 'string' ? Buffer.from(entry.value) : entry.value;
  for (const cut of cuts)
    if (typeof cut !== 'number' || cut < 0 || cut > body.length) return undefined;
  const numbers = [meta.storedAt, meta.freshUntil, meta.staleUntil];
  if (!numbers.every((n) => typeof n === 'number')) return undefined;
  return {
    status: meta.status,
    headers: headers as [string, string[]][],
    template: { body, cuts: cuts as number[] },
    nonce: meta.nonce === true,
    storedAt: meta.storedAt as number,
    freshUntil: meta.freshUntil as number,
    staleUntil: meta.staleUntil as number,
    tags: entry.tags,
    variant: meta.variant === 'bot' || meta.variant === 'browser' ? meta.variant : undefined,
  };
}

function variantOf(bot: boolean | undefined): Variant | undefined {
  return bot === undefined ? undefined : bot ? 'bot' : 'browser';
}

/** The key of one variant of a page that differs between crawlers and browsers. */
function variantKey(key: string, variant: Variant): string {
  return `${key}\nvariant=${variant}`;
}
