import { createHash } from 'node:crypto';
import { ApolloLink } from '@apollo/client';
import { canonicalStringify, print } from '@apollo/client/utilities';
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { PageCacheControl } from './control';
import { KilnCacheError } from './errors';
import { invalidateIn } from './invalidation';
import { CREDENTIAL_HEADERS } from './request';
import { type Flight, SingleFlight } from './single-flight';
import type { InvalidateTarget, Store } from './store';

/** How one GraphQL operation may be cached. */
export interface DataCachePolicy {
  /**
   * How long a result stays cached, in milliseconds. Without it the server's cache hints
   * decide (`extensions.cacheControl` or a `cache-control: max-age` response header); with
   * no hint the result is not cached. With both, the shorter wins.
   */
  ttl?: number;
  /** Tags of the cached result, e.g. `(vars) => ['product:' + vars.id]`. */
  tags?:
    | readonly string[]
    | ((variables: Record<string, unknown>, data: unknown) => readonly string[]);
  /**
   * Cache the result even when the request carries the visitor's credentials (`cookie` or
   * `authorization`). Only for operations whose result is the same whoever asks: the entry is
   * shared with every visitor.
   */
  allowCredentials?: boolean;
}

/** Options of {@link dataCache}. */
export interface DataCacheOptions {
  /** Where results are kept (the same store as the page cache is fine; keys are namespaced). */
  store: Store;
  /**
   * The public operations, by operation name. Operations not listed (and not marked through
   * the operation context `kilnCache`) are never cached.
   */
  operations?: Readonly<Record<string, DataCachePolicy>>;
  /** Prefix of the store keys of this cache. Default `data:`. */
  namespace?: string;
  /**
   * Called with store failures, and once per cache with each reason a fetched result was not
   * stored (`DATA_NOT_STORED`); operations never fail because of them.
   */
  onError?: (error: unknown) => void;
  /**
   * Request headers that carry a visitor's credentials, besides `cookie`, `authorization` and
   * `proxy-authorization` (e.g. `['x-api-key']`). A result fetched with one of them is not
   * shared unless the operation says `allowCredentials`.
   */
  credentialHeaders?: readonly string[];
}

/** Options of {@link DataCache.link}. */
export interface DataCacheLinkOptions {
  /**
   * Headers sent with every operation (e.g. `forwardHeaders(ctx)`): put in the operation
   * context for the HTTP link, checked for credentials, and part of the key (except
   * `cookie` and `authorization`, which only decide whether a result may be shared).
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * The page cache's control of this request (`pages.controlFor(ctx)`): tags of the results
   * used are added to the page, and the page is not fresh longer than its data.
   */
  page?: PageCacheControl;
  /**
   * Where the decision to store a fetched result is made. `'fetch'` (the default): from the
   * final headers of the HTTP request, as {@link DataCache.fetch} sees them, so credentials
   * added by `HttpLink({ headers })`, by a custom `fetch` or by a link after this one are seen;
   * a result whose request was not seen by `data.fetch` is not stored. `'link'`: from the
   * headers this link sees, for transports that send nothing else (a `SchemaLink` with a
   * context that holds no visitor).
   */
  decideFrom?: 'fetch' | 'link';
}

/** Counts of one link (one request), for diagnostics. */
export interface DataCacheStats {
  /** Results served from the store. */
  hits: number;
  /** Cacheable operations fetched from the server. */
  misses: number;
  /** Results written to the store. */
  stored: number;
  /** Operations passed through untouched (not public, credentials, mutations…). */
  bypassed: number;
  /** Operations that waited for another request's fetch of the same result. */
  coalesced: number;
  /**
   * Cacheable results fetched but not stored: their HTTP request was not seen by
   * {@link DataCache.fetch}, carried credentials, or carried a header the key does not hold.
   */
  refused: number;
}

/**
 * The link of one request, made by {@link DataCache.link}; `stats` says what it did.
 *
 * @example
 * ```ts
 * import { memoryStore } from '@kiln/cache';
 * import { dataCache } from '@kiln/cache/apollo';
 *
 * const data = dataCache({ store: memoryStore(), operations: { Products: { ttl: 60_000 } } });
 * const link = data.link();
 * // after the render: link.stats → { hits, misses, stored, bypassed, coalesced }
 * ```
 */
export class DataCacheLink extends ApolloLink {
  /** What this link did so far. */
  readonly stats: DataCacheStats;

  /** Use {@link DataCache.link}; the constructor is not part of the public API. */
  constructor(handler: ApolloLink.RequestHandler, stats: DataCacheStats) {
    super(handler);
    this.stats = stats;
  }
}

/** A shared cache of public GraphQL results; see {@link dataCache}. */
export interface DataCache {
  /** The store the results live in. */
  readonly store: Store;
  /**
   * An Apollo link for one request's client: put it before the HTTP link. Results come from
   * the store when present and still flow into the request's own `InMemoryCache`.
   */
  link(options?: DataCacheLinkOptions): DataCacheLink;
  /**
   * Wraps `fetch` (default: the global one) for the `HttpLink` of a client that uses this
   * cache's link: `new HttpLink({ uri, fetch: data.fetch() })`. It sees the final headers of
   * each HTTP request, after `HttpLink({ headers })`, later links and your own `fetch` have
   * added theirs, and tells the link whether the result may be shared. Pass your own `fetch`
   * as `inner`, or call the returned function from yours with the `init` you were given
   * (spread it: it carries the link's marker).
   */
  fetch(inner?: typeof fetch): typeof fetch;
  /** Drops results by `{ key }`, `{ prefix }` (both inside this cache's namespace) or tag. */
  invalidate(target: InvalidateTarget): Promise<number>;
}

/** The per-operation marker read from the operation context (`context: { kilnCache }`). */
declare module '@apollo/client' {
  interface DefaultContext {
    /** Marks this operation public for `@kiln/cache`'s data cache, with its policy. */
    kilnCache?: DataCachePolicy | false;
  }
}

interface Stored {
  readonly text: string;
  readonly tags: readonly string[];
  readonly expiresAt: number;
}

interface Hint {
  readonly maxAgeMs: number | undefined;
  readonly privateScope: boolean;
}

/** Headers `HttpLink` and Apollo Client add on their own; they do not change the result. */
const TRANSPORT_HEADERS = new Set([
  'accept',
  'content-type',
  'content-length',
  'apollographql-client-name',
  'apollographql-client-version',
]);

/** The key under which the link hands its probe to `data.fetch` through `fetchOptions`. */
const PROBE = Symbol('kiln.dataCache.probe');

/** What `data.fetch` saw of one operation's HTTP request(s). */
interface Probe {
  /** The headers the key was made from (lower-cased). */
  readonly keyed: Readonly<Record<string, string>>;
  readonly credentials: ReadonlySet<string>;
  seen: boolean;
  credentialed: boolean;
  unkeyed: string[];
}

type Refusal = 'not seen' | 'credentials' | 'unkeyed header';

const REFUSALS: Record<Refusal, string> = {
  'not seen':
    'its HTTP request was not seen; pass fetch: data.fetch() to the HttpLink (or decideFrom: "link" for a transport that sends nothing but what the link sees)',
  credentials:
    'its HTTP request carried credentials added after the data-cache link (HttpLink headers, a custom fetch or a later link); pass them through data.link({ headers }) so that signed-in requests skip the cache, or mark the operation allowCredentials if its result is the same for everyone',
  'unkeyed header':
    'its HTTP request carried headers the cache key does not hold; pass them through data.link({ headers }) so that they become part of the key',
};

/**
 * Creates a cache of GraphQL results shared across requests (and across instances on a
 * Redis store), for the operations the app marks public. Each request still builds its own
 * `ApolloClient` and `InMemoryCache`: the link only answers the network part, so
 * isolation between visitors holds.
 *
 * Safe by default: only queries the app names (or marks with `context: { kilnCache }`) are
 * cached; never a result with errors; never one fetched with `cookie` or `authorization`
 * headers unless the operation says `allowCredentials`; never one the server marks
 * `private` or `no-store`. Concurrent fetches of one result share one request.
 *
 * @example
 * ```ts
 * import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
 * import { apollo, forwardHeaders } from '@kiln/apollo';
 * import { memoryStore } from '@kiln/cache';
 * import { dataCache } from '@kiln/cache/apollo';
 *
 * const data = dataCache({
 *   store: memoryStore(),
 *   operations: {
 *     Products: { ttl: 60_000, tags: ['products'] },
 *     Product: { ttl: 60_000, tags: (vars) => [`product:${String(vars.id)}`] },
 *   },
 * });
 *
 * const plugin = apollo({
 *   makeClient: (ctx) =>
 *     new ApolloClient({
 *       ssrMode: true,
 *       cache: new InMemoryCache(),
 *       link: ApolloLink.from([
 *         data.link({ headers: forwardHeaders(ctx, ['accept-language']) }),
 *         new HttpLink({ uri: 'http://127.0.0.1:4000/graphql' }),
 *       ]),
 *     }),
 * });
 * ```
 */
export function dataCache(options: DataCacheOptions): DataCache {
  const { store } = options;
  if (!store || typeof store.get !== 'function') {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'dataCache() needs a store; pass { store: memoryStore() }',
    );
  }
  const namespace = options.namespace ?? 'data:';
  const cache: CacheState = {
    store,
    namespace,
    operations: options.operations ?? {},
    credentials: new Set([
      ...CREDENTIAL_HEADERS,
      ...(options.credentialHeaders ?? []).map((name) => name.toLowerCase()),
    ]),
    flights: new SingleFlight<Stored | undefined>(),
    printed: new WeakMap<object, string>(),
    warned: new Set<string>(),
    report: (error) => options.onError?.(error),
  };
  return {
    store,
    link(linkOptions = {}) {
      const link: LinkState = {
        cache,
        headers: lowerCase(linkOptions.headers ?? {}),
        page: linkOptions.page,
        stats: { hits: 0, misses: 0, stored: 0, bypassed: 0, coalesced: 0, refused: 0 },
        decideFromFetch: linkOptions.decideFrom !== 'link',
      };
      return new DataCacheLink(
        (operation, forward) => handleOperation(link, operation, forward),
        link.stats,
      );
    },
    fetch(inner) {
      return (input, init) => {
        const send = inner ?? globalThis.fetch;
        const probe = (init as { [PROBE]?: Probe } | undefined)?.[PROBE];
        if (!probe || !init) return send(input, init);
        const { [PROBE]: _, ...rest } = init as RequestInit & { [PROBE]?: Probe };
        record(probe, input, rest);
        return send(input, rest);
      };
    },
    invalidate: (target) => invalidateIn(store, namespace, target),
  };
}

/** What the links of one data cache share. */
interface CacheState {
  readonly store: Store;
  readonly namespace: string;
  readonly operations: Readonly<Record<string, DataCachePolicy>>;
  readonly credentials: ReadonlySet<string>;
  readonly flights: SingleFlight<Stored | undefined>;
  /** The printed query of each document, printed once. */
  readonly printed: WeakMap<object, string>;
  /** The refusals already reported, by operation name and reason. */
  readonly warned: Set<string>;
  readonly report: (error: unknown) => void;
}

/** One link (one request): its options and its counts. */
interface LinkState {
  readonly cache: CacheState;
  /** The link's headers, lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly page: PageCacheControl | undefined;
  readonly stats: DataCacheStats;
  readonly decideFromFetch: boolean;
}

/** A cacheable operation of one link. */
interface Cacheable {
  readonly operation: ApolloLink.Operation;
  readonly forward: ApolloLink.ForwardFunction;
  readonly policy: DataCachePolicy;
  /** The operation's headers, lower-cased. */
  readonly headers: Record<string, string>;
  readonly key: string;
}

/** The link's handler: passes the operation on untouched, or answers it through the cache. */
function handleOperation(
  link: LinkState,
  operation: ApolloLink.Operation,
  forward: ApolloLink.ForwardFunction,
): Observable<ApolloLink.Result> {
  if (Object.keys(link.headers).length > 0) {
    operation.setContext((context) => ({
      headers: { ...link.headers, ...(context.headers as Record<string, string> | undefined) },
    }));
  }
  const { cache } = link;
  const policy = policyOf(cache, operation);
  const headers = lowerCase((operation.getContext().headers as Record<string, string>) ?? {});
  const credentialed = Object.keys(headers).some((name) => cache.credentials.has(name));
  if (
    !policy ||
    operation.operationType !== 'query' ||
    (credentialed && policy.allowCredentials !== true)
  ) {
    link.stats.bypassed++;
    return forward(operation);
  }
  const cacheable: Cacheable = {
    operation,
    forward,
    policy,
    headers,
    key: keyOf(cache, operation, headers),
  };
  return new Observable<ApolloLink.Result>((observer) =>
    new CachedOperation(link, cacheable, observer).start(),
  );
}

/**
 * One subscription to a cacheable operation: joins the fetch of the same result running for
 * another request, or reads the store, or fetches from the server and stores the result.
 */
class CachedOperation {
  #closed = false;
  #subscription: Subscription | undefined;
  /** The flight this subscription leads, if it leads one. */
  #flight: Flight<Stored | undefined> | undefined;

  constructor(
    private readonly link: LinkState,
    private readonly op: Cacheable,
    private readonly observer: Subscriber<ApolloLink.Result>,
  ) {}

  /** Starts answering; returns the teardown. */
  start(): () => void {
    this.#run().catch((error: unknown) => {
      this.#release(undefined);
      if (!this.#closed) this.observer.error(error);
    });
    return () => {
      this.#closed = true;
      this.#subscription?.unsubscribe();
      this.#release(undefined);
    };
  }

  async #run(): Promise<void> {
    const { flights } = this.link.cache;
    const waiting = flights.get(this.op.key);
    if (waiting) {
      const shared = await waiting;
      if (this.#closed) return;
      if (!shared) return this.#fetch();
      this.link.stats.coalesced++;
      return this.#serve(shared);
    }
    this.#flight = flights.start(this.op.key);
    const cached = await read(this.link.cache, this.op.key);
    // On a miss the flight stays open until the server answers.
    if (this.#closed || cached) this.#release(cached);
    if (this.#closed) return;
    if (!cached) return this.#fetch();
    this.link.stats.hits++;
    this.#serve(cached);
  }

  /** Gives the result (or nothing) to the requests waiting for this one, once. */
  #release(stored: Stored | undefined): void {
    this.#flight?.settle(stored);
    this.#flight?.end();
  }

  #serve(stored: Stored): void {
    tagPage(this.link.page, stored);
    this.observer.next(JSON.parse(stored.text) as ApolloLink.Result);
    this.observer.complete();
  }

  #fetch(): void {
    const { operation } = this.op;
    this.link.stats.misses++;
    const results: ApolloLink.Result[] = [];
    const probe: Probe | undefined = this.link.decideFromFetch
      ? {
          keyed: this.op.headers,
          credentials: this.link.cache.credentials,
          seen: false,
          credentialed: false,
          unkeyed: [],
        }
      : undefined;
    if (probe) {
      operation.setContext((context) => ({
        fetchOptions: { ...(context.fetchOptions as object | undefined), [PROBE]: probe },
      }));
    }
    this.#subscription = this.op.forward(operation).subscribe({
      next: (result) => {
        results.push(result);
        this.observer.next(result);
      },
      error: (error) => {
        this.#release(undefined);
        this.observer.error(error);
      },
      complete: () => this.#complete(results, probe),
    });
  }

  #complete(results: readonly ApolloLink.Result[], probe: Probe | undefined): void {
    const { operation, policy } = this.op;
    const { cache, stats } = this.link;
    let stored = storable(operation, policy, results);
    const refusal = stored && probe ? refusalOf(probe, policy) : undefined;
    if (refusal) {
      stored = undefined;
      stats.refused++;
      const detail = refusal === 'unkeyed header' ? ` (${probe?.unkeyed.join(', ')})` : '';
      refuse(cache, operation, refusal, detail);
    }
    this.#release(stored);
    if (stored) {
      tagPage(this.link.page, stored);
      stats.stored++;
      write(cache, this.op.key, stored);
    }
    this.observer.complete();
  }
}

/** Tags the page with a result's tags, and keeps the page fresh no longer than the result. */
function tagPage(page: PageCacheControl | undefined, stored: Stored): void {
  if (!page) return;
  if (stored.tags.length > 0) page.tag(...stored.tags);
  page.maxAge(Math.max(0, stored.expiresAt - Date.now()));
}

function policyOf(cache: CacheState, operation: ApolloLink.Operation): DataCachePolicy | undefined {
  const marked = operation.getContext().kilnCache;
  if (marked === false) return undefined;
  if (marked) return marked;
  return operation.operationName ? cache.operations[operation.operationName] : undefined;
}

/** The key of an operation: its name, then a hash of its query, variables and shared headers. */
function keyOf(
  cache: CacheState,
  operation: ApolloLink.Operation,
  headers: Record<string, string>,
): string {
  let text = cache.printed.get(operation.query);
  if (text === undefined) {
    text = print(operation.query);
    cache.printed.set(operation.query, text);
  }
  const shared = Object.keys(headers)
    .filter((name) => !cache.credentials.has(name))
    .sort()
    .map((name) => `${name}:${headers[name]}`)
    .join('\n');
  const hash = createHash('sha256')
    .update(text)
    .update('\0')
    .update(canonicalStringify(operation.variables ?? {}))
    .update('\0')
    .update(shared)
    .digest('base64url');
  return `${cache.namespace}${operation.operationName ?? 'anonymous'}:${hash}`;
}

async function read(cache: CacheState, key: string): Promise<Stored | undefined> {
  try {
    const entry = await cache.store.get(key);
    if (!entry) return undefined;
    const expiresAt = entry.meta.expiresAt;
    if (typeof expiresAt !== 'number' || expiresAt <= Date.now()) return undefined;
    const text = typeof entry.value === 'string' ? entry.value : entry.value.toString('utf8');
    return { text, tags: entry.tags, expiresAt };
  } catch (error) {
    cache.report(error);
    return undefined;
  }
}

function write(cache: CacheState, key: string, stored: Stored): void {
  const entry = { value: stored.text, meta: { expiresAt: stored.expiresAt }, tags: stored.tags };
  cache.store.set(key, entry, stored.expiresAt - Date.now()).catch(cache.report);
}

/** Reports, once per operation name and reason, that a fetched result was not stored. */
function refuse(
  cache: CacheState,
  operation: ApolloLink.Operation,
  refusal: Refusal,
  detail: string,
): void {
  const id = `${operation.operationName ?? 'anonymous'}\0${refusal}`;
  if (cache.warned.has(id)) return;
  cache.warned.add(id);
  cache.report(
    new KilnCacheError(
      'DATA_NOT_STORED',
      `dataCache did not store the result of ${operation.operationName ?? 'an anonymous operation'}${detail}: ${REFUSALS[refusal]}`,
    ),
  );
}

/** Notes what the final HTTP request of a probed operation carries. */
function record(probe: Probe, input: RequestInfo | URL, init: RequestInit): void {
  const headers = new Headers(input instanceof Request ? input.headers : undefined);
  if (init.headers !== undefined) {
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
  }
  probe.seen = true;
  for (const [name, value] of headers) {
    if (probe.credentials.has(name)) probe.credentialed = true;
    else if (!TRANSPORT_HEADERS.has(name) && probe.keyed[name] !== value) probe.unkeyed.push(name);
  }
}

/** Why a probed result may not be shared, if it may not; fails closed. */
function refusalOf(probe: Probe, policy: DataCachePolicy): Refusal | undefined {
  if (!probe.seen) return 'not seen';
  if (probe.credentialed && policy.allowCredentials !== true) return 'credentials';
  if (probe.unkeyed.length > 0) return 'unkeyed header';
  return undefined;
}

function storable(
  operation: ApolloLink.Operation,
  policy: DataCachePolicy,
  results: readonly ApolloLink.Result[],
): Stored | undefined {
  if (results.length !== 1) return undefined;
  const result = results[0] as {
    data?: unknown;
    errors?: unknown;
    extensions?: Record<string, unknown>;
    hasNext?: unknown;
  };
  if (result.errors !== undefined || result.data == null || result.hasNext !== undefined)
    return undefined;
  const hint = readHint(operation, result.extensions);
  if (hint.privateScope) return undefined;
  const ttl =
    policy.ttl === undefined
      ? hint.maxAgeMs
      : hint.maxAgeMs === undefined
        ? policy.ttl
        : Math.min(policy.ttl, hint.maxAgeMs);
  if (ttl === undefined || !(ttl > 0)) return undefined;
  const variables = (operation.variables ?? {}) as Record<string, unknown>;
  const tags =
    typeof policy.tags === 'function' ? policy.tags(variables, result.data) : (policy.tags ?? []);
  const text = JSON.stringify({ data: result.data });
  return { text, tags: [...tags], expiresAt: Date.now() + ttl };
}

/** Reads cache hints: `extensions.cacheControl` (Apollo's format) and the response's `cache-control`. */
function readHint(
  operation: ApolloLink.Operation,
  extensions: Record<string, unknown> | undefined,
): Hint {
  let maxAgeMs: number | undefined;
  let privateScope = false;
  const lower = (ms: number): void => {
    if (Number.isFinite(ms) && (maxAgeMs === undefined || ms < maxAgeMs))
      maxAgeMs = Math.max(0, ms);
  };
  const control = extensions?.cacheControl as
    | { maxAge?: unknown; scope?: unknown; hints?: { maxAge?: unknown; scope?: unknown }[] }
    | undefined;
  if (control && typeof control === 'object') {
    if (typeof control.maxAge === 'number') lower(control.maxAge * 1000);
    if (String(control.scope).toUpperCase() === 'PRIVATE') privateScope = true;
    if (Array.isArray(control.hints)) {
      for (const hint of control.hints) {
        if (typeof hint?.maxAge === 'number') lower(hint.maxAge * 1000);
        if (String(hint?.scope).toUpperCase() === 'PRIVATE') privateScope = true;
      }
    }
  }
  const response = operation.getContext().response as { headers?: Headers } | undefined;
  const header = response?.headers?.get?.('cache-control')?.toLowerCase();
  if (header) {
    if (/(^|[\s,])(private|no-store|no-cache)([\s,=]|$)/.test(header)) privateScope = true;
    const sMaxAge = /(?:^|[\s,])s-maxage=(\d+)/.exec(header);
    const maxAge = /(?:^|[\s,])max-age=(\d+)/.exec(header);
    const seconds = sMaxAge?.[1] ?? maxAge?.[1];
    if (seconds !== undefined) lower(Number(seconds) * 1000);
  }
  return { maxAgeMs, privateScope };
}

function lowerCase(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
