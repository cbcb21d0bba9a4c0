import { createHash } from 'node:crypto';
import { ApolloLink } from '@apollo/client';
import { canonicalStringify, print } from '@apollo/client/utilities';
import { Observable, type Subscription } from 'rxjs';
import type { PageCacheControl } from './control';
import { KilnCacheError } from './errors';
import { SingleFlight } from './single-flight';
import { type InvalidateTarget, invalidate, type Store } from './store';

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

const CREDENTIAL_HEADERS = ['cookie', 'authorization', 'proxy-authorization'];

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
  const credentials = new Set([
    ...CREDENTIAL_HEADERS,
    ...(options.credentialHeaders ?? []).map((name) => name.toLowerCase()),
  ]);
  const warned = new Set<string>();
  const refuse = (operation: ApolloLink.Operation, refusal: Refusal, detail: string): void => {
    const id = `${operation.operationName ?? 'anonymous'}\0${refusal}`;
    if (warned.has(id)) return;
    warned.add(id);
    report(
      new KilnCacheError(
        'DATA_NOT_STORED',
        `dataCache did not store the result of ${operation.operationName ?? 'an anonymous operation'}${detail}: ${REFUSALS[refusal]}`,
      ),
    );
  };
  const operations = options.operations ?? {};
  const report = (error: unknown): void => options.onError?.(error);
  const printed = new WeakMap<object, string>();
  const flights = new SingleFlight<Stored | undefined>();

  const policyOf = (operation: ApolloLink.Operation): DataCachePolicy | undefined => {
    const marked = operation.getContext().kilnCache;
    if (marked === false) return undefined;
    if (marked) return marked;
    return operation.operationName ? operations[operation.operationName] : undefined;
  };

  const keyOf = (operation: ApolloLink.Operation, headers: Record<string, string>): string => {
    let text = printed.get(operation.query);
    if (text === undefined) {
      text = print(operation.query);
      printed.set(operation.query, text);
    }
    const shared = Object.keys(headers)
      .filter((name) => !credentials.has(name))
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
    return `${namespace}${operation.operationName ?? 'anonymous'}:${hash}`;
  };

  const read = async (key: string): Promise<Stored | undefined> => {
    try {
      const entry = await store.get(key);
      if (!entry) return undefined;
      const expiresAt = entry.meta.expiresAt;
      if (typeof expiresAt !== 'number' || expiresAt <= Date.now()) return undefined;
      const text = typeof entry.value === 'string' ? entry.value : entry.value.toString('utf8');
      return { text, tags: entry.tags, expiresAt };
    } catch (error) {
      report(error);
      return undefined;
    }
  };

  return {
    store,
    link(linkOptions = {}) {
      const linkHeaders = lowerCase(linkOptions.headers ?? {});
      const page = linkOptions.page;
      const stats: DataCacheStats = {
        hits: 0,
        misses: 0,
        stored: 0,
        bypassed: 0,
        coalesced: 0,
        refused: 0,
      };
      const decideFromFetch = linkOptions.decideFrom !== 'link';

      const tagPage = (stored: Stored): void => {
        if (!page) return;
        if (stored.tags.length > 0) page.tag(...stored.tags);
        page.maxAge(Math.max(0, stored.expiresAt - Date.now()));
      };

      const handler: ApolloLink.RequestHandler = (operation, forward) => {
        if (Object.keys(linkHeaders).length > 0) {
          operation.setContext((context) => ({
            headers: { ...linkHeaders, ...(context.headers as Record<string, string> | undefined) },
          }));
        }
        const policy = policyOf(operation);
        const headers = lowerCase((operation.getContext().headers as Record<string, string>) ?? {});
        const credentialed = Object.keys(headers).some((name) => credentials.has(name));
        if (
          !policy ||
          operation.operationType !== 'query' ||
          (credentialed && policy.allowCredentials !== true)
        ) {
          stats.bypassed++;
          return forward(operation);
        }
        const key = keyOf(operation, headers);

        return new Observable<ApolloLink.Result>((observer) => {
          let closed = false;
          let subscription: Subscription | undefined;
          let releaseFlight: ((stored: Stored | undefined) => void) | undefined;

          const lead = (): ((stored: Stored | undefined) => void) => {
            const flight = flights.start(key);
            const release = (stored: Stored | undefined): void => {
              flight.settle(stored);
              flight.end();
            };
            releaseFlight = release;
            return release;
          };

          const fetchFromServer = (release: (stored: Stored | undefined) => void): void => {
            stats.misses++;
            const results: ApolloLink.Result[] = [];
            const probe: Probe | undefined = decideFromFetch
              ? { keyed: headers, credentials, seen: false, credentialed: false, unkeyed: [] }
              : undefined;
            if (probe) {
              operation.setContext((context) => ({
                fetchOptions: { ...(context.fetchOptions as object | undefined), [PROBE]: probe },
              }));
            }
            subscription = forward(operation).subscribe({
              next(result) {
                results.push(result);
                observer.next(result);
              },
              error(error) {
                release(undefined);
                observer.error(error);
              },
              complete() {
                let stored = storable(operation, policy, results);
                const refusal = stored && probe ? refusalOf(probe, policy) : undefined;
                if (refusal) {
                  stored = undefined;
                  stats.refused++;
                  refuse(
                    operation,
                    refusal,
                    refusal === 'unkeyed header' ? ` (${probe?.unkeyed.join(', ')})` : '',
                  );
                }
                release(stored);
                if (stored) {
                  tagPage(stored);
                  stats.stored++;
                  const ttl = stored.expiresAt - Date.now();
                  store
                    .set(
                      key,
                      {
                        value: stored.text,
                        meta: { expiresAt: stored.expiresAt },
                        tags: stored.tags,
                      },
                      ttl,
                    )
                    .catch(report);
                }
                observer.complete();
              },
            });
          };

          const serve = (stored: Stored): void => {
            tagPage(stored);
            observer.next(JSON.parse(stored.text) as ApolloLink.Result);
            observer.complete();
          };

          const start = async (): Promise<void> => {
            const waiting = flights.get(key);
            if (waiting) {
              const shared = await waiting;
              if (closed) return;
              if (shared) {
                stats.coalesced++;
                serve(shared);
                return;
              }
              fetchFromServer(() => {});
              return;
            }
            const release = lead();
            const cached = await read(key);
            if (closed) {
              release(cached);
              return;
            }
            if (cached) {
              release(cached);
              stats.hits++;
              serve(cached);
              return;
            }
            fetchFromServer(release);
          };
          start().catch((error: unknown) => {
            releaseFlight?.(undefined);
            if (!closed) observer.error(error);
          });
          return () => {
            closed = true;
            subscription?.unsubscribe();
            releaseFlight?.(undefined);
          };
        });
      };

      return new DataCacheLink(handler, stats);
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
    invalidate(target) {
      if (typeof target === 'object' && target !== null) {
        if ('key' in target) return invalidate(store, { key: namespace + target.key });
        if ('prefix' in target) return invalidate(store, { prefix: namespace + target.prefix });
      }
      return invalidate(store, target);
    },
  };
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
