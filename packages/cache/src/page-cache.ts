import type {
  RenderContext,
  RenderOptions,
  RenderResult,
  RequestInfo,
  RequestInputs,
} from '@kiln/core';
import { detectBot, normalizeRequest, renderToHtml, trackRequestInputs } from '@kiln/core';
import { isValidNonce } from '@kiln/serialize';
import type { ReactNode } from 'react';
import { coalescing, type Lead } from './coalescing';
import { type CollectedControl, inactiveControl, type PageCacheControl } from './control';
import { KilnCacheError } from './errors';
import { invalidateIn, invalidatePage } from './invalidation';
import type { RenderLock } from './lock';
import { placeholderNonce } from './nonce';
import {
  bypassReason,
  decidedInputs,
  keyedView,
  keyOf,
  notStorableReason,
  type PagePolicy,
  pagePolicy,
} from './page-policy';
import { type RenderedPage, renderForCache } from './page-render';
import {
  bypassResult,
  cacheInfo,
  type PageCacheInfo,
  resultFromPage,
  resultFromRender,
} from './page-result';
import { detachedRequest, withUrl } from './request';
import type { InvalidateTarget, Store } from './store';
import {
  decodePage,
  encodePage,
  type StoredPage,
  servesNonce,
  toStoredPage,
  type Variant,
  variantKey,
} from './stored-page';
import { freshness, lifetime, revalidate } from './swr';

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
   * neither creates entries nor changes the page served. The page is rendered with only the
   * listed parameters in `ctx.url` (an unlisted one reads as absent), so a value left out of
   * the key cannot be stored and served to all: list every parameter the page reads.
   * Default: the whole query string is part of the key.
   */
  query?: readonly string[];
  /**
   * The key of a request (without the namespace). Default: path and query, the host, the
   * scheme, then the `vary` headers, each on its own line. The request is normalised as the
   * render sees it (with the render's `trustProxy`, the forwarded host and scheme): keep the
   * host and scheme in a key of your own when the page writes absolute URLs. Return
   * `undefined` to leave this request uncached.
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
   * query, every host, scheme and `vary` variant included); `{ prefix }` every page whose key
   * starts with it (e.g. `/products/`); a string or `{ tag }` every entry of the store carrying
   * the tag.
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

/** A background refresh of a stale page. */
interface Refresh {
  readonly key: string;
  readonly request: RequestInfo;
  readonly decided: RequestInputs;
  readonly element: ReactNode;
  readonly renderOptions: RenderOptions;
  readonly nonce: boolean;
}

/** What reading a key found. */
interface Lookup {
  readonly page: StoredPage | undefined;
  readonly lookupMs: number;
  readonly error: string | undefined;
}

/** One cacheable request, once its key is known. */
interface Visit {
  readonly key: string;
  readonly element: ReactNode;
  readonly renderOptions: RenderOptions;
  readonly request: RequestInfo;
  readonly decided: RequestInputs;
  readonly nonce: string | undefined;
  /** The kind of visitor, for a page that differs between crawlers and browsers. */
  readonly variant: () => Variant;
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
  const policy: PagePolicy = pagePolicy(options);
  const namespace = options.namespace ?? 'page:';
  const header = options.header === undefined ? 'x-kiln-cache' : options.header;
  const now = options.now ?? Date.now;
  const controls = new WeakMap<RenderContext, CollectedControl>();
  const pending = new Set<Promise<unknown>>();

  const report = (error: unknown): void => options.onError?.(error);
  const track = (work: Promise<unknown>): void => {
    const settled = work.catch(report).finally(() => pending.delete(settled));
    pending.add(settled);
  };
  const renders = coalescing<StoredPage>({ lock: options.lock, report, track });

  const read = async (key: string): Promise<Lookup> => {
    const started = performance.now();
    let page: StoredPage | undefined;
    let error: string | undefined;
    try {
      const entry = await store.get(key);
      page = entry && decodePage(entry);
      if (entry && !page) {
        report(
          new KilnCacheError(
            'CORRUPT_ENTRY',
            `the page entry "${key}" is not in the format this version writes; it is rendered again`,
          ),
        );
      }
    } catch (cause) {
      report(cause);
      error = (cause as Error)?.message ?? String(cause);
    }
    return { page, lookupMs: performance.now() - started, error };
  };

  /** The page stored for the kind of visitor of `visit`, if any. */
  const readFor = async (visit: Visit): Promise<Lookup> => {
    const found = await read(visit.key);
    // A page that differs between crawlers and browsers serves only its own kind of visitor.
    if (found.page?.variant && found.page.variant !== visit.variant()) {
      return { ...found, page: (await read(variantKey(visit.key, visit.variant()))).page };
    }
    return found;
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
    const { entry, ttlMs } = encodePage(page);
    await store.set(key, entry, ttlMs);
  };

  /** Gives the render led for `key` to its waiters, stores it when it may be, then ends the lead. */
  const settleLead = (
    key: string,
    lead: Lead<StoredPage>,
    work: Promise<RenderedPage>,
  ): Promise<RenderedPage> =>
    work.then(
      (rendered) => {
        if (notStorableReason(policy, rendered) !== undefined) {
          lead.end();
          return rendered;
        }
        const { control } = rendered;
        const page = toStoredPage(
          { ...rendered, tags: control.tags },
          lifetime(now(), { ttl, staleWhileRevalidate: swr }, control.maxAgeMs),
          header,
        );
        lead.settle(page);
        track(writeAll(key, page).finally(lead.end));
        return rendered;
      },
      (error: unknown) => {
        lead.end();
        throw error;
      },
    );

  /** Renders a stale page again in the background, with a copy of the request that outlives it. */
  const refresh = (job: Refresh, lead: Lead<StoredPage>): Promise<void> => {
    const { signal: _signal, ...rest } = job.renderOptions;
    const work = renderForCache(
      job.element,
      { ...rest, request: detachedRequest(job.request) },
      job.nonce ? placeholderNonce() : undefined,
      job.decided,
      controls,
    );
    return settleLead(job.key, lead, work).then(async (rendered) => {
      // A page that is no longer storable (now a 404, now private) must stop being served;
      // a render that failed or timed out leaves the stale page in place until it expires.
      const reason = notStorableReason(policy, rendered);
      if (reason !== undefined && rendered.incomplete === undefined) await store.delete(job.key);
    });
  };

  const serve = (
    visit: Visit,
    page: StoredPage,
    fields: Partial<PageCacheInfo> & { status: PageCacheInfo['status'] },
  ): PageResult =>
    resultFromPage(
      page,
      visit.nonce,
      cacheInfo({ key: visit.key, ageMs: now() - page.storedAt, tags: page.tags, ...fields }),
      now(),
      header,
    );

  const bypass = async (
    element: ReactNode,
    renderOptions: RenderOptions,
    reason: string,
  ): Promise<PageResult> =>
    bypassResult(
      await renderToHtml(element, renderOptions),
      cacheInfo({ status: 'bypass', reason }),
      header,
    );

  /** Whether a page rendered by another request of this process may be served to `visit`. */
  const fits = (visit: Visit, page: StoredPage | undefined): page is StoredPage =>
    page !== undefined &&
    servesNonce(page, visit.nonce) &&
    (!page.variant || page.variant === visit.variant());

  /** Serves a cacheable request: from the store, from another render of its key, or rendered now. */
  const cached = async (visit: Visit): Promise<PageResult> => {
    const { key, nonce } = visit;
    const { page, lookupMs, error } = await readFor(visit);
    if (page && servesNonce(page, nonce)) {
      const state = freshness(page, now());
      if (state === 'fresh') return serve(visit, page, { status: 'hit', lookupMs });
      if (state === 'stale') {
        const job: Refresh = { ...visit, nonce: page.nonce };
        const stillStale = async (): Promise<boolean> => {
          const current = (await read(key)).page;
          return !(current && now() < current.freshUntil);
        };
        revalidate(renders, key, stillStale, (lead) => refresh(job, lead), track);
        return serve(visit, page, { status: 'stale', lookupMs });
      }
    }

    // No await when nothing runs: a request of the same tick must find this one's lead.
    const joining = renders.join(key);
    const shared = joining && (await joining).value;
    if (fits(visit, shared)) {
      return serve(visit, shared, { status: 'hit', lookupMs, coalesced: true, error });
    }
    const turn = await renders.take(key, async () => {
      const stored = (await readFor(visit)).page;
      return stored && servesNonce(stored, nonce) && now() < stored.staleUntil ? stored : undefined;
    });
    if ('found' in turn) {
      const found = turn.found;
      return serve(visit, found, {
        status: now() < found.freshUntil ? 'hit' : 'stale',
        lookupMs,
        coalesced: true,
        lockWaitMs: turn.waitedMs,
      });
    }
    const work = renderForCache(visit.element, visit.renderOptions, nonce, visit.decided, controls);
    const rendered = await ('lead' in turn ? settleLead(key, turn.lead, work) : work);
    const notStored = notStorableReason(policy, rendered);
    const cache = cacheInfo({
      status: 'miss',
      key,
      lookupMs,
      error,
      reason: notStored,
      stored: notStored === undefined,
      tags: [...rendered.control.tags],
    });
    return resultFromRender(rendered, cache, header);
  };

  return {
    store,
    async render(element, renderOptions) {
      if (!renderOptions?.request) return bypass(element, renderOptions ?? {}, 'no request');
      if (renderOptions.nonce !== undefined && !isValidNonce(renderOptions.nonce)) {
        // A hit writes the nonce as stored bytes, with no escaping: only a nonce of base64
        // characters may be put there.
        return bypass(
          element,
          renderOptions,
          'invalid nonce: use 1 to 256 base64 or base64url characters',
        );
      }
      // The key must hold the origin the render will see: behind a trusted proxy that is the
      // forwarded host and scheme, not the proxy's own request to this server.
      const request = normalizeRequest(renderOptions.request, {
        trustProxy: renderOptions.trustProxy === true,
      });
      const ruled: RequestInputs = { headers: [], cookies: [] };
      const reason = bypassReason(policy, trackRequestInputs(request, ruled));
      if (reason !== undefined) return bypass(element, renderOptions, reason);
      const held: RequestInputs = { headers: [], cookies: [] };
      const keyed = keyOf(policy, trackRequestInputs(request, held));
      const decided = decidedInputs(policy, ruled, held);
      if ('invalid' in keyed) return bypass(element, renderOptions, keyed.invalid);
      const seen = keyedView(policy, request);
      return cached({
        key: namespace + keyed.key,
        element,
        renderOptions: seen
          ? { ...renderOptions, request: withUrl(renderOptions.request, seen.url) }
          : renderOptions,
        request: seen ?? request,
        decided,
        nonce: renderOptions.nonce,
        variant: () =>
          detectBot(request.headers.get('user-agent'), renderOptions.isBot) ? 'bot' : 'browser',
      });
    },
    async invalidate(target) {
      if (typeof target === 'object' && target !== null) {
        if ('key' in target) {
          return invalidatePage(store, namespace + target.key, options.key !== undefined);
        }
        // `{ prefix: '' }`: every page of this cache
        if ('prefix' in target && target.prefix === '') return store.deletePrefix(namespace);
      }
      return invalidateIn(store, namespace, target);
    },
    controlFor(ctx) {
      return controls.get(ctx) ?? inactiveControl;
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
