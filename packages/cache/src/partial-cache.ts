import {
  type KilnPlugin,
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
import { createElement, type ReactNode } from 'react';
import { type CollectedControl, controlContext, createControl } from './control';
import { KilnCacheError } from './errors';
import { invalidKeyPart, type PageCacheOptions } from './page-cache';
import { withCacheInfo } from './page-result';
import { SingleFlight } from './single-flight';
import { type InvalidateTarget, invalidate, type Store } from './store';

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
    'store' | 'ttl' | 'staleWhileRevalidate' | 'vary' | 'query' | 'key' | 'now' | 'onError'
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

interface StoredShell {
  readonly shell: Shell;
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
  readonly tags: readonly string[];
}

const FORMAT = 1;
/** How many parsed shells a cache keeps (the most recently read). */
const PARSED_LIMIT = 256;
const PLUGIN = 'kiln-cache';

/** The page-cache control of a pre-render (tags, maxAge, noStore), as a plugin present in both halves. */
function controlPlugin(control: CollectedControl): KilnPlugin {
  return {
    name: PLUGIN,
    setup: () => ({
      wrap: (app) => createElement(controlContext().Provider, { value: control }, app),
    }),
  };
}

/**
 * Experimental: a cache of partial pre-renders. Each page (same key rules as
 * {@link pageCache}: path, query, host and `vary` headers; never cookies) is pre-rendered
 * once into a shell, stored in memory or Redis with TTL, stale-while-revalidate, tags and
 * single flight, and every request, signed in or not, gets the stored shell as its first bytes
 * plus its own holes rendered fresh (`x-kiln-cache: partial`). A page without holes is served
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
  const vary = (options.vary ?? []).map((name) => name.toLowerCase());
  const query = options.query ? [...options.query] : undefined;
  const header = options.header === undefined ? 'x-kiln-cache' : options.header;
  const now = options.now ?? Date.now;
  const flights = new SingleFlight<StoredShell | undefined>();
  const pending = new Set<Promise<unknown>>();
  /** The last parsed shell of recent keys, with the text it was parsed from. */
  const parsed = new Map<string, { text: string; shell: Shell }>();

  const report = (error: unknown): void => options.onError?.(error);
  const track = (work: Promise<unknown>): void => {
    const settled = work.catch(report).finally(() => pending.delete(settled));
    pending.add(settled);
  };

  const keyOf = (request: RequestInfo): string | undefined => {
    if (options.key) return options.key(request);
    if (invalidKeyPart(request, vary) !== undefined) return undefined;
    let search = request.url.search;
    if (query) {
      const kept = new URLSearchParams();
      for (const name of query)
        for (const value of request.url.searchParams.getAll(name)) kept.append(name, value);
      search = kept.size === 0 ? '' : `?${kept}`;
    }
    let key = `${request.url.pathname}${search}\nhost=${request.url.host.toLowerCase()}`;
    for (const name of vary) key += `\n${name}=${request.headers.get(name) ?? ''}`;
    return key;
  };

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
    const storedAt = now();
    const fresh = control.maxAgeMs === undefined ? ttl : Math.min(ttl, control.maxAgeMs);
    return {
      shell,
      storedAt,
      freshUntil: storedAt + fresh,
      staleUntil: storedAt + fresh + swr,
      tags: [...control.tags],
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
      Math.max(1, stored.staleUntil - stored.storedAt),
    );
  };

  /** Pre-renders `key` once at a time; every caller shares the result. */
  const lead = (
    key: string,
    element: ReactNode,
    renderOptions: RenderOptions,
    request: RequestInfo,
  ): Promise<StoredShell | undefined> => {
    return flights.run(key, () =>
      build(element, renderOptions, request).then(
        (stored) => {
          if (stored) track(write(key, stored));
          return stored;
        },
        (error: unknown) => {
          report(error);
          return undefined;
        },
      ),
    );
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

  return {
    store,
    async render(element, renderOptions) {
      if (!renderOptions?.request) {
        return full(element, renderOptions ?? {}, 'bypass', undefined, 'no request');
      }
      const request = normalizeRequest(renderOptions.request);
      const allowed = options.cacheable ? options.cacheable(request) : request.method === 'GET';
      if (!allowed) {
        return full(element, renderOptions, 'bypass', undefined, 'not cacheable');
      }
      const keyPart = keyOf(request);
      if (keyPart === undefined) {
        return full(element, renderOptions, 'bypass', undefined, 'invalid key');
      }
      const key = namespace + keyPart;
      const stored = await read(key);
      if (stored) {
        const at = now();
        if (at < stored.freshUntil) {
          return serve(stored, element, renderOptions, 'partial', key, false);
        }
        if (at < stored.staleUntil) {
          if (!flights.has(key)) track(lead(key, element, renderOptions, request));
          return serve(stored, element, renderOptions, 'stale', key, false);
        }
      }
      const coalesced = flights.has(key);
      const built = await lead(key, element, renderOptions, request);
      if (!built) {
        return full(element, renderOptions, 'miss', key, 'the shell could not be pre-rendered');
      }
      return serve(built, element, renderOptions, coalesced ? 'partial' : 'miss', key, coalesced);
    },
    async invalidate(target) {
      if (typeof target === 'object' && target !== null) {
        if ('prefix' in target) {
          return invalidate(store, { prefix: namespace + target.prefix });
        }
        if ('key' in target) {
          return invalidate(store, { key: namespace + target.key });
        }
      }
      return invalidate(store, target);
    },
    async idle() {
      while (pending.size > 0 || flights.size > 0)
        await Promise.allSettled([...pending, flights.idle()]);
    },
  };
}
