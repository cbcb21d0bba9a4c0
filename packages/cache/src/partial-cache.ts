import {
  normalizeRequest,
  type PrerenderOptions,
  prerenderShell,
  type RenderOptions,
  type RenderResult,
  type RequestInfo,
  renderToHtml,
  resumeShell,
  type Shell,
} from '@kiln/core';
import type { ReactNode } from 'react';
import { coalescing, type Lead } from './coalescing';
import { createControl } from './control';
import { KilnCacheError } from './errors';
import { invalidateIn } from './invalidation';
import type { PageCacheOptions } from './page-cache';
import { keyedView, keyOf, pagePolicy, unshareableResponse } from './page-policy';
import { controlPlugin } from './page-render';
import { withCacheInfo } from './page-result';
import { CREDENTIAL_HEADERS, withUrl } from './request';
import type { InvalidateTarget, Store } from './store';
import { freshness, type Lifetime, lifetime, retention, revalidate } from './swr';

/**
 * Options of {@link partialCache}.
 *
 * @example
 * ```ts
 * import { memoryStore, type PartialCacheOptions } from '@kiln/cache';
 *
 * const options: PartialCacheOptions = { store: memoryStore(), ttl: 60_000, vary: ['accept-language'] };
 * ```
 */
export interface PartialCacheOptions
  extends Pick<
    PageCacheOptions,
    'store' | 'ttl' | 'staleWhileRevalidate' | 'lock' | 'vary' | 'query' | 'key' | 'now' | 'onError'
  > {
  /**
   * Whether a request is served from a shell. Default: `GET`. Signed-in visitors are served
   * too: their cookies and headers reach only the holes, rendered for them.
   */
  cacheable?: (request: RequestInfo) => boolean;
  /** Name of the response header (`partial`, `hit`, `miss`, `stale`, `dynamic`, `bypass`); `false` for none. Default `x-kiln-cache`. */
  header?: string | false;
  /** Prefix of the store keys. Default `shell:`. */
  namespace?: string;
}

/**
 * How {@link partialCache} answered a request. `partial`: the stored shell and this request's
 * holes. `hit`: a shell with no holes (the stored document). `miss`: the shell was pre-rendered
 * now (and stored), then resumed. `stale`: like `partial`, past its TTL, while one background
 * pre-render refreshes it. `dynamic`: the page reads request input outside any boundary and is
 * rendered in full. `bypass`: not served from a shell (method, `cacheable()`, key).
 *
 * @example
 * ```ts
 * import type { PartialCacheStatus } from '@kiln/cache';
 *
 * const fromShell = (status: PartialCacheStatus) => status === 'partial' || status === 'hit';
 * ```
 */
export type PartialCacheStatus = 'partial' | 'hit' | 'miss' | 'stale' | 'dynamic' | 'bypass';

/**
 * What {@link partialCache} did for one request.
 *
 * @example
 * ```ts
 * import type { PartialCacheInfo } from '@kiln/cache';
 *
 * const log = (info: PartialCacheInfo) => console.log(info.status, info.key, info.holes);
 * ```
 */
export interface PartialCacheInfo {
  /** See {@link PartialCacheStatus}. */
  readonly status: PartialCacheStatus;
  /** The store key, when the request is served from a shell. */
  readonly key: string | undefined;
  /** Why the request was rendered in full or the shell not stored. */
  readonly reason: string | undefined;
  /** True when this request waited for another request's pre-render of the same key. */
  readonly coalesced: boolean;
  /** The number of holes of the shell. */
  readonly holes: number;
  /** Tags of the shell. */
  readonly tags: readonly string[];
}

/**
 * The result of {@link PartialCache.render}: a `RenderResult` plus what the cache did.
 *
 * @example
 * ```ts
 * import type { PartialResult } from '@kiln/cache';
 *
 * const status = (result: PartialResult) => result.headers.get('x-kiln-cache') ?? result.cache.status;
 * ```
 */
export interface PartialResult extends RenderResult {
  /** What the cache did for this request. */
  readonly cache: PartialCacheInfo;
}

/**
 * A cache of pre-rendered shells around `prerenderShell` / `resumeShell`; see {@link partialCache}.
 *
 * @example
 * ```ts
 * import type { PartialCache } from '@kiln/cache';
 *
 * const drop = (cache: PartialCache) => cache.invalidate('product:42');
 * ```
 */
export interface PartialCache {
  /** The store the shells live in. */
  readonly store: Store;
  /** Serves `element` for `options.request` from its shell (pre-rendering it on a miss). */
  render(element: ReactNode, options: RenderOptions): Promise<PartialResult>;
  /** Drops shells by tag, `{ key }`, `{ prefix }` or `{ tag }`; resolves how many. */
  invalidate(target: InvalidateTarget): Promise<number>;
  /** Resolves when background pre-renders and store writes started so far have settled. */
  idle(): Promise<void>;
}

interface StoredShell extends Lifetime {
  readonly shell: Shell;
  readonly tags: readonly string[];
  /** Why this freshly built shell may serve its own requests but not be stored. */
  readonly unstorable?: string;
}

/**
 * Why a shell may not be stored: the page cache's rule for responses (a 404 for any path an
 * attacker makes up would otherwise fill the store). Its headers are checked without the nonce.
 */
function unstorableShell(shell: Shell): string | undefined {
  const headers = new Headers();
  for (const [name, parts] of shell.headers) headers.append(name, parts.join(''));
  return unshareableResponse(shell.status, headers);
}

/**
 * The headers a shell is pre-rendered with: the `vary` headers, which the key holds, so every
 * request served from the shell agrees on them (credentials excepted, whatever `vary` says).
 */
function sharedHeaders(vary: readonly string[], request: RequestInfo): Headers {
  const headers = new Headers();
  for (const name of vary) {
    if (CREDENTIAL_HEADERS.includes(name)) continue;
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

const FORMAT = 1;
/** How many parsed shells a cache keeps (the most recently read). */
const PARSED_LIMIT = 256;
/**
 * Experimental: a cache of partial pre-renders. Each page (same key rules as
 * {@link pageCache}: path, query, host, scheme and `vary` headers; never cookies) is
 * pre-rendered once into a shell, with its `vary` headers (credentials excepted), which
 * components may read in the shell. Shells are stored in memory or Redis with TTL,
 * stale-while-revalidate, tags and single flight (one pre-render per key across instances with
 * `lock`), and every request, signed in or not, gets the stored shell as its first bytes plus
 * its own holes rendered fresh (`x-kiln-cache: partial`). A page without holes is served
 * as stored (`hit`). A page that reads request input outside any Suspense boundary is rendered
 * in full (`dynamic`), and so is everything `cacheable()` refuses (`bypass`).
 *
 * Use the same `plugins` for every request of a page: they render both halves. Crawlers get a
 * full render (a resumed page needs JavaScript to show its holes).
 *
 * @example
 * ```tsx
 * import { createServer } from 'node:http';
 * import { memoryStore, partialCache } from '@kiln/cache';
 * import type { ReactNode } from 'react';
 *
 * declare function App(): ReactNode; // renders the whole document, personal parts in <Suspense>
 *
 * const shells = partialCache({ store: memoryStore(), ttl: 60_000, staleWhileRevalidate: 600_000 });
 * createServer(async (req, res) => {
 *   const result = await shells.render(<App />, { request: req });
 *   result.pipe(res); // x-kiln-cache: partial | hit | miss | stale | dynamic | bypass
 * }).listen(3000);
 * ```
 */
export function partialCache(options: PartialCacheOptions): PartialCache {
  const { store, ttl } = options;
  const swr = options.staleWhileRevalidate ?? 0;
  if (!store || typeof store.get !== 'function') {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'partialCache() needs a store; pass { store: memoryStore() }',
    );
  }
  if (!(ttl > 0) || !(swr >= 0)) {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'partialCache({ ttl, staleWhileRevalidate }) must be milliseconds (ttl > 0, staleWhileRevalidate >= 0)',
    );
  }
  const namespace = options.namespace ?? 'shell:';
  const policy = pagePolicy(options);
  const header = options.header === undefined ? 'x-kiln-cache' : options.header;
  const now = options.now ?? Date.now;
  const pending = new Set<Promise<unknown>>();
  /** The last parsed shell of recent keys, with the text it was parsed from. */
  const parsed = new Map<string, { text: string; shell: Shell }>();

  const report = (error: unknown): void => options.onError?.(error);
  const track = (work: Promise<unknown>): void => {
    const settled = work.catch(report).finally(() => pending.delete(settled));
    pending.add(settled);
  };
  const renders = coalescing<StoredShell>({ lock: options.lock, report, track });

  /** Pre-renders the page with no visitor; `undefined` (with the reason reported) when it cannot be stored. */
  const build = async (
    element: ReactNode,
    renderOptions: RenderOptions,
    request: RequestInfo,
  ): Promise<StoredShell | undefined> => {
    const control = createControl();
    const {
      request: _request,
      nonce: _nonce,
      mode: _mode,
      isBot: _isBot,
      trustProxy: _trustProxy,
      signal: _signal,
      ...rest
    } = renderOptions;
    const prerender: PrerenderOptions = {
      ...rest,
      url: request.url,
      headers: sharedHeaders(policy.vary, request),
      plugins: [controlPlugin(control), ...(renderOptions.plugins ?? [])],
    };
    const shell = await prerenderShell(element, prerender);
    if (control.noStoreReason) {
      report(
        new KilnCacheError(
          'NOT_STORED',
          `the shell of ${request.url.pathname} is not stored: ${control.noStoreReason}`,
        ),
      );
      return undefined;
    }
    return {
      ...lifetime(now(), { ttl, staleWhileRevalidate: swr }, control.maxAgeMs),
      shell,
      tags: [...control.tags],
      unstorable: unstorableShell(shell),
    };
  };

  const write = async (key: string, stored: StoredShell): Promise<void> => {
    await store.set(
      key,
      {
        value: JSON.stringify(stored.shell),
        meta: {
          v: FORMAT,
          storedAt: stored.storedAt,
          freshUntil: stored.freshUntil,
          staleUntil: stored.staleUntil,
        },
        tags: stored.tags,
      },
      retention(stored),
    );
  };

  /**
   * Pre-renders `key` under `lead`: the shell goes to the requests waiting for it, then to the
   * store, and the lead ends once it is stored. `undefined` when there is no shell to serve.
   */
  const leadBuild = async (
    key: string,
    lead: Lead<StoredShell>,
    element: ReactNode,
    renderOptions: RenderOptions,
    request: RequestInfo,
  ): Promise<StoredShell | undefined> => {
    let stored: StoredShell | undefined;
    try {
      stored = await build(element, renderOptions, request);
    } catch (error) {
      report(error);
    }
    if (!stored) {
      lead.end();
      return undefined;
    }
    lead.settle(stored);
    if (stored.unstorable) {
      // Served to the requests that asked for it, never stored: a 404 or a page setting a
      // cookie would let any path fill the store (the page cache refuses them too).
      report(
        new KilnCacheError(
          'NOT_STORED',
          `the shell of ${request.url.pathname} is not stored: ${stored.unstorable}`,
        ),
      );
      lead.end();
      return stored;
    }
    track(write(key, stored).finally(lead.end));
    return stored;
  };

  const read = async (key: string): Promise<StoredShell | undefined> => {
    let entry: Awaited<ReturnType<Store['get']>>;
    try {
      entry = await store.get(key);
    } catch (error) {
      report(error);
      return undefined;
    }
    if (!entry) return undefined;
    const meta = entry.meta as Record<string, unknown>;
    const numbers = [meta.storedAt, meta.freshUntil, meta.staleUntil];
    if (meta.v !== FORMAT || !numbers.every((n) => typeof n === 'number')) return undefined;
    try {
      // A store hands back the same text until the shell changes: parse it once.
      const text = String(entry.value);
      let shell = parsed.get(key);
      if (shell === undefined || shell.text !== text) {
        shell = { text, shell: JSON.parse(text) as Shell };
        parsed.delete(key);
        if (parsed.size >= PARSED_LIMIT) parsed.delete(parsed.keys().next().value as string);
        parsed.set(key, shell);
      }
      return {
        shell: shell.shell,
        storedAt: meta.storedAt as number,
        freshUntil: meta.freshUntil as number,
        staleUntil: meta.staleUntil as number,
        tags: entry.tags,
      };
    } catch (error) {
      report(error);
      return undefined;
    }
  };

  const respond = (result: RenderResult, cache: PartialCacheInfo): PartialResult => {
    if (header) result.headers.set(header, cache.status);
    return withCacheInfo(result, cache);
  };

  const full = async (
    element: ReactNode,
    renderOptions: RenderOptions,
    status: PartialCacheStatus,
    key: string | undefined,
    reason: string,
  ): Promise<PartialResult> =>
    respond(await renderToHtml(element, renderOptions), {
      status,
      key,
      reason,
      coalesced: false,
      holes: 0,
      tags: [],
    });

  const serve = async (
    stored: StoredShell,
    element: ReactNode,
    renderOptions: RenderOptions,
    status: 'partial' | 'miss' | 'stale',
    key: string,
    coalesced: boolean,
  ): Promise<PartialResult> => {
    const { shell } = stored;
    if (shell.kind === 'dynamic') {
      return full(element, renderOptions, 'dynamic', key, shell.reason ?? 'dynamic shell');
    }
    const result = await resumeShell(shell, element, {
      ...renderOptions,
      // the same providers as in the pre-render; tags set in holes do not change the shell
      plugins: [controlPlugin(createControl()), ...(renderOptions.plugins ?? [])],
    });
    // A crawler (or `mode: 'buffer'`) got the whole page rendered for it, not the shell.
    const rendered = result.diagnostics.mode === 'buffer';
    return respond(result, {
      status: rendered
        ? 'bypass'
        : status === 'partial' && shell.kind === 'static'
          ? 'hit'
          : status,
      key,
      reason: rendered ? 'rendered in full for a crawler (buffer mode)' : undefined,
      coalesced,
      holes: shell.holes.length,
      tags: stored.tags,
    });
  };

  /**
   * Serves a request whose shell is not stored: from the pre-render of its key running here or
   * (with a lock) on another instance, or pre-rendered now.
   */
  const miss = async (
    key: string,
    element: ReactNode,
    renderOptions: RenderOptions,
    request: RequestInfo,
  ): Promise<PartialResult> => {
    const joining = renders.join(key);
    const turn = joining
      ? { joined: (await joining).value }
      : await renders.take(key, async () => {
          const stored = await read(key);
          return stored && now() < stored.staleUntil ? stored : undefined;
        });
    // Another request of this process took the lead while this one waited for the lock.
    if ('alone' in turn) return miss(key, element, renderOptions, request);
    const built =
      'lead' in turn
        ? await leadBuild(key, turn.lead, element, renderOptions, request)
        : 'found' in turn
          ? turn.found
          : turn.joined;
    if (!built) {
      return full(element, renderOptions, 'miss', key, 'the shell could not be pre-rendered');
    }
    const coalesced = !('lead' in turn);
    return serve(built, element, renderOptions, coalesced ? 'partial' : 'miss', key, coalesced);
  };

  return {
    store,
    async render(element, given) {
      if (!given?.request) {
        return full(element, given ?? {}, 'bypass', undefined, 'no request');
      }
      // The key and the shell's URL are the origin the render sees (forwarded, behind a
      // trusted proxy).
      const normalized = normalizeRequest(given.request, {
        trustProxy: given.trustProxy === true,
      });
      const allowed = options.cacheable
        ? options.cacheable(normalized)
        : normalized.method === 'GET';
      if (!allowed) {
        return full(element, given, 'bypass', undefined, 'not cacheable');
      }
      const keyed = keyOf(policy, normalized);
      if ('invalid' in keyed) {
        return full(element, given, 'bypass', undefined, 'invalid key');
      }
      const key = namespace + keyed.key;
      // With `query`, the shell and the holes see only the listed parameters, those of the key.
      const seen = keyedView(policy, normalized);
      const request = seen ?? normalized;
      const renderOptions = seen ? { ...given, request: withUrl(given.request, seen.url) } : given;
      const stored = await read(key);
      const state = stored && freshness(stored, now());
      if (stored && state === 'fresh') {
        return serve(stored, element, renderOptions, 'partial', key, false);
      }
      if (stored && state === 'stale') {
        const stillStale = async (): Promise<boolean> => {
          const current = await read(key);
          return !(current && now() < current.freshUntil);
        };
        revalidate(
          renders,
          key,
          stillStale,
          (lead) => leadBuild(key, lead, element, renderOptions, request),
          track,
        );
        return serve(stored, element, renderOptions, 'stale', key, false);
      }
      return miss(key, element, renderOptions, request);
    },
    invalidate: (target) => invalidateIn(store, namespace, target),
    async idle() {
      while (pending.size > 0 || renders.size > 0)
        await Promise.allSettled([...pending, renders.idle()]);
    },
  };
}
