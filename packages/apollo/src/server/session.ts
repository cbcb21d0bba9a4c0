import type { ApolloCache, ApolloClient, ErrorPolicy, OperationVariables } from '@apollo/client';
import { ApolloLink } from '@apollo/client';
import { getSuspenseCache } from '@apollo/client/react/internal';
import { canonicalStringify } from '@apollo/client/utilities';
import type { DocumentNode } from 'graphql';
import { print, visit } from 'graphql';
import { Observable } from 'rxjs';
import {
  type BufferedState,
  errorToWire,
  type StreamChunk,
  type WireError,
  type WireKey,
  type WireWrite,
} from '../shared/transport';
import { DirectResults, ROOT } from './direct-results';

/** A promise React's `use()` reads synchronously once `status` is `fulfilled` (React's own protocol). */
export type TrackedThenable = Promise<void> & {
  status: 'pending' | 'fulfilled';
  value: undefined;
};

function tracked(promise: Promise<void>, status: TrackedThenable['status']): TrackedThenable {
  return Object.assign(promise, { status, value: undefined });
}

/** The server-side fetch of one query (document + variables) during one request. */
interface FetchEntry {
  /** Settles with the final result (every `@defer`red part merged). */
  readonly thenable: TrackedThenable;
  /** Settles with the first result: the initial payload of a query with `@defer`, else the final one. */
  readonly initial: TrackedThenable;
  readonly depth: number;
  error: unknown;
  errorPolicy: ErrorPolicy;
}

/** The options of a hook call that decide whether and how the server fetches. */
export interface HookFetchOptions {
  variables?: OperationVariables;
  errorPolicy?: ErrorPolicy;
  context?: unknown;
}

/** What `@kiln/apollo` keeps with a pre-rendered shell (JSON). */
export interface ShellSnapshot {
  /** The shell's cache extract. */
  cache: unknown;
  /** The documents the shell numbered, by number. */
  docs: string[];
  /** The operations the shell fetched, as `docId|canonical variables`. */
  ops: string[];
}

/** What the session counts for `RenderResult.diagnostics.plugins.apollo`. */
export interface ApolloStats {
  passes: number;
  operations: number;
  fetches: number;
  waterfallDepth: number;
  waitingMs: number;
  bytes: number;
  errors: number;
  /** Hook reads answered from the result the server fetched, with no normalised cache read. */
  direct: number;
}

/** Figures of a request that has fetched and sent nothing yet. */
export function emptyStats(): ApolloStats {
  return {
    passes: 0,
    operations: 0,
    fetches: 0,
    waterfallDepth: 0,
    waitingMs: 0,
    bytes: 0,
    errors: 0,
    direct: 0,
  };
}

interface SuspenseRef {
  autoDisposeTimeoutId?: ReturnType<typeof setTimeout>;
  dispose(): void;
}

interface SuspenseCacheLike {
  getQueryRef(key: unknown, create: () => unknown): SuspenseRef;
  getFragmentRef(key: unknown, client: unknown, options: unknown): SuspenseRef;
  add(key: unknown, ref: SuspenseRef): void;
}

interface CacheWriteOptions {
  query: DocumentNode;
  variables?: Record<string, unknown>;
  dataId?: string;
  result: unknown;
  overwrite?: boolean;
}

type CacheWrite = (options: CacheWriteOptions) => unknown;

/** Context key through which a fetch learns from the link that its first result was written. */
const INITIAL_RESULT = Symbol('kiln.apollo.initialResult');

const directiveNames = new WeakMap<DocumentNode, ReadonlySet<string>>();

/** The names of the directives `query` uses (`defer`, `client`, …). */
function directivesOf(query: DocumentNode): ReadonlySet<string> {
  let names = directiveNames.get(query);
  if (names === undefined) {
    const found = new Set<string>();
    visit(query, {
      Directive(node) {
        found.add(node.name.value);
      },
    });
    names = found;
    directiveNames.set(query, names);
  }
  return names;
}

/** Whether `query` has a `@defer` directive (its result arrives in parts). */
function hasDefer(query: DocumentNode): boolean {
  return directivesOf(query).has('defer');
}

const now = (): number => performance.now();

/**
 * Everything `@kiln/apollo` keeps for one request: the request's client, the server-side
 * fetches (deduplicated per document and variables), the cache writes and errors still to be
 * sent to the browser, the suspense-cache references to release, and the figures for
 * diagnostics. Created in the plugin's `setup`, released in `dispose`.
 */
export class RequestSession {
  readonly client: ApolloClient;
  readonly stats: ApolloStats = emptyStats();
  /** Set while a prefetch strategy (prerenderStatic) renders; then wrappers defer to Apollo's. */
  preparing = false;
  /** Called by the hook wrappers before the server fetches or reads a query (partial pre-rendering). */
  beforeFetch:
    | ((query: DocumentNode, variables: OperationVariables | undefined) => void)
    | undefined;

  private readonly fetches = new Map<DocumentNode, Map<string, FetchEntry>>();
  private readonly fulfilled: TrackedThenable;
  private readonly docIds = new Map<DocumentNode, number>();
  private readonly docTexts: string[] = [];
  private sentDocs = 0;
  private pendingWrites: WireWrite[] = [];
  private pendingErrors: WireError[] = [];
  private pendingStarts: WireKey[] = [];
  private pendingFinishes: WireKey[] = [];
  private pendingServed: WireKey[] = [];
  private readonly allServed: WireKey[] = [];
  private readonly servedKeys = new Set<string>();
  /** Operations in flight, by `docId|variables`, with how many run at once. */
  private readonly running = new Map<string, { key: WireKey; count: number }>();
  private readonly record: boolean;
  private readonly allErrors: WireError[] = [];
  private readonly refs = new Set<SuspenseRef>();
  private readonly onError: (error: unknown) => void;
  private readonly restoreCache: (() => void) | undefined;
  private readonly restoreSuspenseCache: () => void;
  /** Serves hooks the fetched results (see {@link DirectResults}); undefined when the client cannot. */
  private readonly direct: DirectResults | undefined;
  private inFlight = 0;
  /** Operations through the link plus server fetches not yet settled. */
  private active = 0;
  private idlePromise: Promise<void> | undefined;
  private resolveIdle: (() => void) | undefined;
  private readonly docIdsByText = new Map<string, number>();
  /** On resume: the operations (`docId|variables`) the shell's data answers. */
  private shellOps: Set<string> | undefined;
  /** Every operation a hook asked the server for, as `docId|variables`. */
  private readonly ensured = new Set<string>();
  private waitingSince = 0;
  private settledDepth = 0;
  private stopped = false;
  private abortReason: unknown;

  constructor(
    client: ApolloClient,
    options: { record: boolean; direct: boolean; onError(error: unknown): void },
  ) {
    this.client = client;
    this.onError = options.onError;
    this.record = options.record;
    this.fulfilled = tracked(Promise.resolve(), 'fulfilled');
    client.setLink(
      ApolloLink.from([
        new ApolloLink((operation, forward) => {
          if (this.stopped) {
            // after an abort nothing new leaves: a hook that would fetch now (Apollo's own
            // suspense hooks) fails with the abort's reason, and its boundary is left for the
            // browser
            const reason = this.abortReason;
            return new Observable((subscriber) => subscriber.error(reason));
          }
          this.stats.operations++;
          const onInitial = (operation.getContext() as { [INITIAL_RESULT]?: () => void })[
            INITIAL_RESULT
          ];
          // While streaming, the browser learns which operations the server has in flight, so
          // a hook that hydrates before the result arrived waits for it instead of fetching.
          const key: WireKey | undefined = this.record
            ? [this.docId(operation.query), canonicalStringify(operation.variables ?? {})]
            : undefined;
          if (key) this.started(key);
          return new Observable((subscriber) => {
            let open = true;
            this.busy(1);
            const finish = (): void => {
              if (open) {
                if (key) this.finished(key);
                this.busy(-1);
              }
              open = false;
            };
            const subscription = forward(operation).subscribe({
              next: (value) => {
                // Apollo writes each result into the cache while this call runs; for a query
                // with @defer, the first one is the initial payload
                subscriber.next(value);
                onInitial?.();
              },
              error: (error: unknown) => {
                finish();
                subscriber.error(error);
              },
              complete: () => {
                finish();
                subscriber.complete();
              },
            });
            return () => {
              finish();
              subscription.unsubscribe();
            };
          });
        }),
        client.link,
      ]),
    );
    // before the recording of writes, which then sees every write the direct results let through
    this.direct = options.direct ? new DirectResults(client.cache, this.stats) : undefined;
    this.restoreCache = options.record ? this.recordWrites(client.cache) : undefined;
    this.restoreSuspenseCache = this.trackSuspenseCache();
  }

  /**
   * Undefined when no operation or server fetch is in flight, else a promise that resolves
   * once none is (partial pre-rendering waits for it before it ends the pre-render).
   */
  idle(): Promise<void> | undefined {
    if (this.active === 0) return undefined;
    this.idlePromise ??= new Promise((resolve) => {
      this.resolveIdle = resolve;
    });
    return this.idlePromise;
  }

  /** What a pre-rendered shell holds: its cache, the documents it numbered, the operations it ran. */
  snapshot(): ShellSnapshot {
    const failed = new Set<string>();
    for (const [query, byVariables] of this.fetches) {
      const id = this.docId(query);
      for (const [variables, entry] of byVariables) {
        if (entry.error !== undefined) failed.add(`${id}|${variables}`);
      }
    }
    const ops = [...this.ensured].filter((op) => !failed.has(op));
    return { cache: this.client.cache.extract(), docs: [...this.docTexts], ops };
  }

  /**
   * Resumes from a shell: the cache holds the shell's data (the path to each hole renders from
   * it, with no request), document numbers continue those the browser already has, and only
   * the shell's own operations are served from that data: a hole's query is fetched for this
   * request.
   */
  restore(snapshot: ShellSnapshot): void {
    // With direct results, the shell's data reaches the cache only once something reads it
    // beyond the results fetched for the holes.
    if (this.direct?.active) this.direct.restoreLater(snapshot.cache);
    else this.client.cache.restore(snapshot.cache as never);
    for (const text of snapshot.docs) {
      this.docIdsByText.set(text, this.docTexts.length);
      this.docTexts.push(text);
    }
    this.sentDocs = this.docTexts.length;
    this.shellOps = new Set(snapshot.ops);
  }

  /**
   * Runs `read`, the render of a hook whose output React throws away (the first run of a
   * component whose query is on its way), without making the cache complete for it: with
   * direct results, a shell's data waiting to be restored stays out of the cache.
   */
  discardedRead<T>(read: () => T): T {
    return this.direct ? this.direct.aside(read) : read();
  }

  /** A thenable that is already fulfilled, for hook calls that need no fetch. */
  get ready(): TrackedThenable {
    return this.fulfilled;
  }

  /**
   * Makes sure the cache holds `query` with `options.variables`: returns an already fulfilled
   * thenable when it does (or when a fetch for it already settled), otherwise starts one
   * fetch with `client.query` (shared by every hook asking for the same query) and returns
   * its thenable. The thenable never rejects; a failure is kept for {@link errorFor}.
   *
   * With `initial`, a query with `@defer` is ready once its initial payload is in the cache
   * (its deferred parts keep arriving into the cache, where `useSuspenseFragment` waits for
   * them); otherwise once its final result is.
   */
  ensure(query: DocumentNode, options: HookFetchOptions, initial = false): TrackedThenable {
    if (this.stopped) return this.fulfilled;
    const variables = options.variables;
    const key = canonicalStringify(variables ?? {});
    let byVariables = this.fetches.get(query);
    const existing = byVariables?.get(key);
    if (existing) return initial ? existing.initial : existing.thenable;
    const op = `${this.docId(query)}|${key}`;
    this.ensured.add(op);
    // On a resume only the shell's own operations may be answered from its data: any other is
    // fetched for this request, and its cache check is skipped.
    if (this.shellOps === undefined || this.shellOps.has(op)) {
      const diff = this.client.cache.diff({
        query,
        variables,
        returnPartialData: true,
        optimistic: false,
      });
      if (diff.complete) return this.fulfilled;
    }
    if (!byVariables) {
      byVariables = new Map();
      this.fetches.set(query, byVariables);
    }
    const entry = this.startFetch(query, key, options);
    byVariables.set(key, entry);
    return initial ? entry.initial : entry.thenable;
  }

  /** The error of the server fetch of `query` + `variables`, if it failed. */
  errorFor(
    query: DocumentNode,
    variables: OperationVariables | undefined,
  ): { error: unknown; errorPolicy: ErrorPolicy } | undefined {
    const entry = this.fetches.get(query)?.get(canonicalStringify(variables ?? {}));
    return entry?.error === undefined ? undefined : entry;
  }

  /**
   * Records that a hook with a `network-only` or `cache-and-network` policy read `query` +
   * `variables` on the server: its first render in the browser reads the cache too.
   */
  markServed(query: DocumentNode, variables: OperationVariables | undefined): void {
    if (this.stopped) return;
    const key: WireKey = [this.docId(query), canonicalStringify(variables ?? {})];
    const text = `${key[0]}|${key[1]}`;
    if (this.servedKeys.has(text)) return;
    this.servedKeys.add(text);
    this.allServed.push(key);
    if (this.record) this.pendingServed.push(key);
  }

  /** Counts a whole-tree render pass. */
  countPass(): void {
    this.stats.passes++;
  }

  /** The streamed chunk of everything recorded since the last call, or undefined. */
  takeChunk(): StreamChunk | undefined {
    if (
      this.pendingWrites.length === 0 &&
      this.pendingErrors.length === 0 &&
      this.pendingStarts.length === 0 &&
      this.pendingFinishes.length === 0 &&
      this.pendingServed.length === 0
    ) {
      return undefined;
    }
    const chunk: StreamChunk = {};
    const docs = this.newDocs();
    if (docs) chunk.d = docs;
    if (this.pendingWrites.length > 0) chunk.w = this.pendingWrites;
    if (this.pendingErrors.length > 0) chunk.e = this.pendingErrors;
    if (this.pendingStarts.length > 0) chunk.p = this.pendingStarts;
    if (this.pendingFinishes.length > 0) chunk.f = this.pendingFinishes;
    if (this.pendingServed.length > 0) chunk.s = this.pendingServed;
    this.pendingWrites = [];
    this.pendingErrors = [];
    this.pendingStarts = [];
    this.pendingFinishes = [];
    this.pendingServed = [];
    return chunk;
  }

  /** The state a buffered page embeds: the final cache and every failed query. */
  bufferedState(): BufferedState {
    let state: BufferedState;
    if (this.direct) {
      // the results kept aside go as writes, replayed in the browser after the cache
      const { cache, writes } = this.direct.extractApart();
      state = { cache };
      if (writes.length > 0) {
        state.w = writes.map(({ query, variables, data }) =>
          this.wireWrite(query, variables, data),
        );
      }
    } else {
      state = { cache: this.client.cache.extract() };
    }
    if (this.allErrors.length > 0 || this.allServed.length > 0 || state.w) {
      const docs = this.newDocs();
      if (docs) state.d = docs;
    }
    if (this.allErrors.length > 0) state.e = this.allErrors;
    if (this.allServed.length > 0) state.s = this.allServed;
    return state;
  }

  /** Cancels every request in flight (Apollo's `client.stop()`): the links abort their fetches. */
  abort(reason?: unknown): void {
    if (this.stopped) return;
    this.abortReason = reason ?? new Error('[kiln/apollo] the render was aborted');
    // the browser stops waiting for what will never come and fetches it itself
    for (const { key } of this.running.values()) this.pendingFinishes.push(key);
    this.running.clear();
    this.stopped = true;
    this.client.stop();
  }

  /** Releases everything the request allocated: suspense references and their timers, subscriptions, hooks into the client. */
  dispose(): void {
    this.abort();
    for (const ref of this.refs) {
      clearTimeout(ref.autoDisposeTimeoutId);
      ref.dispose();
    }
    this.refs.clear();
    this.restoreSuspenseCache();
    this.restoreCache?.();
    this.direct?.release();
    this.fetches.clear();
    this.pendingWrites = [];
    this.pendingErrors = [];
    if (this.inFlight > 0) {
      this.stats.waitingMs += now() - this.waitingSince;
      this.inFlight = 0;
    }
  }

  private startFetch(query: DocumentNode, key: string, options: HookFetchOptions): FetchEntry {
    const errorPolicy =
      options.errorPolicy ?? this.client.defaultOptions.watchQuery?.errorPolicy ?? 'none';
    this.stats.fetches++;
    this.busy(1);
    if (this.inFlight++ === 0) this.waitingSince = now();
    let reachedInitial = (): void => {};
    const deferred = hasDefer(query);
    const initialPromise = deferred
      ? new Promise<void>((resolve) => {
          reachedInitial = resolve;
        })
      : undefined;
    const userContext = options.context as Record<PropertyKey, unknown> | undefined;
    const context = deferred
      ? { ...userContext, [INITIAL_RESULT]: () => reachedInitial() }
      : userContext;
    // A complete result the hooks can read as fetched skips the normalised write and read
    // (DirectResults); anything else is written by Apollo as it arrives.
    const direct =
      this.direct?.active === true &&
      !deferred &&
      errorPolicy === 'none' &&
      !directivesOf(query).has('client')
        ? this.direct
        : undefined;
    const request = this.client.query({
      query,
      variables: options.variables,
      errorPolicy,
      fetchPolicy: direct ? 'no-cache' : 'network-only',
      ...(context === undefined ? {} : { context: context as never }),
    } as ApolloClient.QueryOptions);
    const thenable = tracked(
      request.then(
        (result) => {
          if (result.error) this.fail(entry, query, key, result.error);
          else if (direct && result.data != null && !this.stopped) {
            this.keepDirect(direct, query, options.variables, result.data);
          }
        },
        (error: unknown) => this.fail(entry, query, key, error),
      ),
      'pending',
    );
    const entry: FetchEntry = {
      thenable,
      initial: initialPromise
        ? tracked(
            Promise.race([initialPromise, thenable]).then(() => undefined),
            'pending',
          )
        : thenable,
      depth: this.settledDepth + 1,
      error: undefined,
      errorPolicy,
    };
    if (entry.initial !== thenable) {
      void entry.initial.then(() => {
        entry.initial.status = 'fulfilled';
      });
    }
    void entry.thenable.then(() => {
      entry.thenable.status = 'fulfilled';
      if (entry.depth > this.settledDepth) this.settledDepth = entry.depth;
      if (entry.depth > this.stats.waterfallDepth) this.stats.waterfallDepth = entry.depth;
      if (--this.inFlight === 0) this.stats.waitingMs += now() - this.waitingSince;
      this.busy(-1);
    });
    return entry;
  }

  /** Keeps a fetched result for the hooks, and (while streaming) sends it as Apollo's write would be. */
  private keepDirect(
    direct: DirectResults,
    query: DocumentNode,
    variables: OperationVariables | undefined,
    data: unknown,
  ): void {
    // the document as Apollo writes and reads it (with __typename), the same object every time
    const transformed = this.client.documentTransform.transformDocument(query);
    direct.add(transformed, variables, data);
    if (this.record) this.pendingWrites.push(this.wireWrite(transformed, variables, data));
  }

  private wireWrite(
    query: DocumentNode,
    variables: Record<string, unknown> | undefined,
    data: unknown,
  ): WireWrite {
    return [this.docId(query), variables, data, ROOT];
  }

  private busy(delta: 1 | -1): void {
    this.active += delta;
    if (this.active === 0 && this.resolveIdle) {
      const resolve = this.resolveIdle;
      this.idlePromise = undefined;
      this.resolveIdle = undefined;
      resolve();
    }
  }

  private started(key: WireKey): void {
    const text = `${key[0]}|${key[1]}`;
    const run = this.running.get(text);
    if (run) run.count++;
    else {
      this.running.set(text, { key, count: 1 });
      this.pendingStarts.push(key);
    }
  }

  private finished(key: WireKey): void {
    const text = `${key[0]}|${key[1]}`;
    const run = this.running.get(text);
    if (!run || this.stopped) return;
    if (--run.count > 0) return;
    this.running.delete(text);
    this.pendingFinishes.push(key);
  }

  private fail(entry: FetchEntry, query: DocumentNode, key: string, error: unknown): void {
    // cut off by an abort or timeout: the hook renders its loading state, the browser fetches
    if (this.stopped) return;
    entry.error = error;
    this.stats.errors++;
    const wire: WireError = [this.docId(query), key, errorToWire(error)];
    this.pendingErrors.push(wire);
    this.allErrors.push(wire);
    this.onError(error);
  }

  private docId(query: DocumentNode): number {
    let id = this.docIds.get(query);
    if (id === undefined) {
      const text = print(query);
      id = this.docIdsByText.get(text);
      if (id === undefined) {
        id = this.docTexts.length;
        this.docTexts.push(text);
        this.docIdsByText.set(text, id);
      }
      this.docIds.set(query, id);
    }
    return id;
  }

  private newDocs(): Record<number, string> | undefined {
    if (this.sentDocs === this.docTexts.length) return undefined;
    const docs: Record<number, string> = {};
    for (let i = this.sentDocs; i < this.docTexts.length; i++) docs[i] = this.docTexts[i]!;
    this.sentDocs = this.docTexts.length;
    return docs;
  }

  private recordWrites(cache: ApolloCache): () => void {
    const target = cache as unknown as { write: CacheWrite };
    const hadOwn = Object.hasOwn(target, 'write');
    const ownWrite = target.write;
    const write: CacheWrite = (options) => {
      const ref = ownWrite.call(cache, options);
      if (!this.stopped && !this.repeatsLastWrite(options)) {
        const wire: WireWrite = [this.docId(options.query), options.variables, options.result];
        if (options.dataId !== undefined || options.overwrite) wire.push(options.dataId);
        if (options.overwrite) wire.push(true);
        this.pendingWrites.push(wire);
      }
      return ref;
    };
    target.write = write;
    return () => {
      if (hadOwn) target.write = ownWrite;
      else delete (target as { write?: CacheWrite }).write;
    };
  }

  /**
   * Whether `options` writes the same result as the last write waiting to be sent: a query
   * with `@defer` read by Apollo's own suspense hook writes each part once for the hook and
   * once for the server fetch it joined.
   */
  private repeatsLastWrite(options: CacheWriteOptions): boolean {
    const last = this.pendingWrites.at(-1);
    if (!last || last[0] !== this.docIds.get(options.query)) return false;
    if ((last[3] ?? undefined) !== options.dataId || (last[4] ?? false) !== !!options.overwrite) {
      return false;
    }
    return (
      canonicalStringify(last[1] ?? {}) === canonicalStringify(options.variables ?? {}) &&
      canonicalStringify(last[2]) === canonicalStringify(options.result)
    );
  }

  private trackSuspenseCache(): () => void {
    const cache = getSuspenseCache(this.client) as unknown as SuspenseCacheLike;
    const { getQueryRef, getFragmentRef, add } = cache;
    cache.getQueryRef = (key, create) => {
      const ref = getQueryRef.call(cache, key, create);
      this.refs.add(ref);
      return ref;
    };
    cache.getFragmentRef = (key, client, options) => {
      const ref = getFragmentRef.call(cache, key, client, options);
      this.refs.add(ref);
      return ref;
    };
    cache.add = (key, ref) => {
      this.refs.add(ref);
      add.call(cache, key, ref);
    };
    return () => {
      cache.getQueryRef = getQueryRef;
      cache.getFragmentRef = getFragmentRef;
      cache.add = add;
    };
  }
}
