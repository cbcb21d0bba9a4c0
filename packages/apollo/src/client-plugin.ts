import { type ApolloClient, ApolloLink } from '@apollo/client';
import type { HookWrappers } from '@apollo/client/react/internal';
import { canonicalStringify } from '@apollo/client/utilities';
import type { KilnClientPlugin } from '@kiln/core/client';
import { parse, readState } from '@kiln/serialize/client';
import { type DocumentNode, parse as parseDocument, print } from 'graphql';
import { createElement, type ReactNode, useRef, useSyncExternalStore } from 'react';
import { Observable, type Subscription } from 'rxjs';
import { KilnApolloError } from './errors';
import { KilnApolloProvider } from './provider';
import {
  type BufferedState,
  errorFromWire,
  isValidKey,
  queueName,
  type StreamChunk,
  type WireError,
  type WireKey,
} from './transport';

/** Options of {@link apolloClient}. */
export interface ApolloClientPluginOptions {
  /** Creates the browser's client (one per page). Its cache is filled from what the server sent. */
  makeClient: () => ApolloClient;
  /** The state key given to `apollo()` on the server. Default `'apollo'`. */
  key?: string;
  /**
   * Ignored. It used to open a time window after hydration in which `network-only` and
   * `cache-and-network` queries read the cache; now each hook that hydrates reads what the
   * server sent for it, however late it hydrates, and fetches normally afterwards.
   *
   * @deprecated No timer decides anymore; remove the option.
   */
  forceFetchDelayMs?: number;
}

/** The browser half of `@kiln/apollo`, returned by {@link apolloClient}. */
export interface ApolloClientPlugin extends KilnClientPlugin {
  /** The browser's client, created by `before()` (undefined until then). */
  readonly client: ApolloClient | undefined;
}

interface CacheWriter {
  write(options: {
    query: DocumentNode;
    variables?: Record<string, unknown>;
    dataId?: string;
    result: unknown;
    overwrite?: boolean;
  }): unknown;
}

interface QueryResultLike {
  loading?: boolean;
  error?: unknown;
  networkStatus?: number;
}

type AnyHook = (query: DocumentNode, options?: unknown) => QueryResultLike;

/**
 * The server's error for a hook's query, looked up with `find` at the hook's first render when
 * Apollo's own result has none, and kept until Apollo's result object changes (a refetch, new
 * data): the first render in the browser matches the server HTML.
 */
function usePinnedServerError(
  result: QueryResultLike,
  find: () => Error | undefined,
): Error | undefined {
  const pinned = useRef<{ raw: QueryResultLike; error: Error } | null>(undefined as never);
  if (pinned.current === undefined) {
    const error = result.error === undefined ? find() : undefined;
    pinned.current = error ? { raw: result, error } : null;
  }
  const pin = pinned.current;
  return pin && pin.raw === result ? pin.error : undefined;
}

const noSubscribe = (): (() => void) => () => {};

/**
 * Whether React is hydrating the component that calls this hook: React reads
 * `getServerSnapshot` of `useSyncExternalStore` only while it hydrates. Both snapshots are
 * equal, so this costs no second render.
 */
function useIsHydrating(): boolean {
  let hydrating = false;
  useSyncExternalStore(
    noSubscribe,
    () => false,
    () => {
      hydrating = true;
      return false;
    },
  );
  return hydrating;
}

type HookOptionsLike = {
  variables?: Record<string, unknown>;
  fetchPolicy?: string;
  nextFetchPolicy?: unknown;
  errorPolicy?: string;
};

/** Policies under which a hook fetches though the cache holds its data. */
const REFETCHING = new Set<string>(['network-only', 'cache-and-network']);

/** What the server sent, as {@link useHydratingOptions} asks it. */
interface ServedLookup {
  /** The client's default fetch policy. */
  policy(): string | undefined;
  /** Whether the server sent the result of `query` with the hook's variables. */
  has(query: DocumentNode, hookOptions: unknown): boolean;
  /** The hook's query and variables as one string. */
  key(query: DocumentNode, hookOptions: unknown): string;
}

const optionsOf = (options: unknown): HookOptionsLike =>
  typeof options === 'object' && options !== null ? (options as HookOptionsLike) : {};

/**
 * The options a hook runs with: while the server's result for its query and variables is the
 * one it hydrated with, a `network-only` or `cache-and-network` hook reads the cache
 * (`cache-first`), and goes back to its own policy for what comes next (`nextFetchPolicy`,
 * `initialFetchPolicy`: refetches, new variables). Decided per hook at its hydrating render,
 * never by a timer.
 */
function useHydratingOptions(
  served: ServedLookup,
  query: DocumentNode,
  hookOptions: unknown,
  hydrating: boolean,
  withNext: boolean,
): unknown {
  const opts = optionsOf(hookOptions);
  const policy = opts.fetchPolicy ?? served.policy();
  const refetching = policy !== undefined && REFETCHING.has(policy);
  const first = useRef<string | null>(undefined as never);
  if (first.current === undefined) {
    first.current =
      hydrating && refetching && served.has(query, hookOptions)
        ? served.key(query, hookOptions)
        : null;
  }
  if (first.current === null || !refetching) return hookOptions;
  if (served.key(query, hookOptions) !== first.current) return hookOptions;
  return withNext
    ? {
        ...opts,
        fetchPolicy: 'cache-first',
        initialFetchPolicy: policy,
        nextFetchPolicy: opts.nextFetchPolicy ?? policy,
      }
    : { ...opts, fetchPolicy: 'cache-first' };
}

/**
 * The client plugin for `hydrate()` from `@kiln/core/client`. Before React hydrates, it
 * creates the browser's `ApolloClient` and fills its cache with what the server fetched:
 * the final cache of a buffered page, or, while a page streams, every result the server
 * sent so far and then each new one the moment its script arrives, which is before React
 * reveals the Suspense boundary that shows it. Each hook that hydrates, however late, reads
 * what the server sent for it: a `network-only` or `cache-and-network` hook reads the cache
 * instead of fetching, an operation the server still has in flight is answered by its
 * streamed result instead of the network, and a `useQuery` that failed on the server shows
 * the same error. So the first render equals the server HTML and makes no request; no timer
 * decides. Refetches, new variables and hooks mounted after hydration fetch as usual.
 *
 * @example
 * ```tsx
 * import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
 * import { apolloClient } from '@kiln/apollo/client';
 * import { hydrate } from '@kiln/core/client';
 * import type { ReactNode } from 'react';
 *
 * declare function App(): ReactNode;
 *
 * await hydrate(<App />, {
 *   plugins: [
 *     apolloClient({
 *       makeClient: () =>
 *         new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: '/graphql' }) }),
 *     }),
 *   ],
 * });
 * ```
 */
export function apolloClient(options: ApolloClientPluginOptions): ApolloClientPlugin {
  const key = options.key ?? 'apollo';
  if (!isValidKey(key)) {
    throw new KilnApolloError(
      'KILN_APOLLO_BAD_OPTIONS',
      `the key ${JSON.stringify(key)} is not valid; use letters, digits and _ only`,
    );
  }
  let client: ApolloClient | undefined;
  const docs = new Map<number, DocumentNode>();
  const docTexts = new Map<number, string>();
  const printed = new WeakMap<DocumentNode, string>();
  const errors = new Map<string, Error>();
  /** Hook queries (`text|variables`) with a refetching policy whose result the server sent. */
  const served = new Set<string>();
  /** Operations the server has in flight while streaming, by `text|variables`. */
  const running = new Map<string, { done: Promise<void>; release(): void }>();

  const documentById = (id: number): DocumentNode => {
    let doc = docs.get(id);
    if (!doc) {
      const text = docTexts.get(id);
      if (text === undefined) {
        throw new KilnApolloError(
          'KILN_APOLLO_BAD_STATE',
          `the server sent a result for an unknown document #${id}; make sure the page and its client bundle come from the same build`,
        );
      }
      doc = parseDocument(text);
      docs.set(id, doc);
    }
    return doc;
  };

  const addDocs = (d: Record<number, string> | undefined): void => {
    if (!d) return;
    for (const [id, text] of Object.entries(d)) docTexts.set(Number(id), text);
  };

  const keyText = (key: WireKey): string | undefined => {
    const text = docTexts.get(key[0]);
    return text === undefined ? undefined : `${text}|${key[1]}`;
  };

  const addServed = (s: WireKey[] | undefined): void => {
    if (!s) return;
    for (const key of s) {
      const text = keyText(key);
      if (text !== undefined) served.add(text);
    }
  };

  const addRunning = (p: WireKey[] | undefined): void => {
    if (!p) return;
    for (const key of p) {
      const text = keyText(key);
      if (text === undefined || running.has(text)) continue;
      let release = (): void => {};
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      running.set(text, { done, release });
    }
  };

  const finishRunning = (f: WireKey[] | undefined): void => {
    if (!f) return;
    for (const key of f) {
      const text = keyText(key);
      const run = text === undefined ? undefined : running.get(text);
      if (!run) continue;
      running.delete(text!);
      run.release();
    }
  };

  /** The stream ended: whatever the server did not finish, the browser fetches itself. */
  const releaseAll = (): void => {
    for (const run of running.values()) run.release();
    running.clear();
  };

  const addErrors = (e: WireError[] | undefined): void => {
    if (!e) return;
    for (const [docId, variables, error] of e) {
      const text = docTexts.get(docId);
      if (text !== undefined) errors.set(`${text}|${variables}`, errorFromWire(error));
    }
  };

  const applyChunk = (text: unknown): void => {
    const target = client;
    if (!target || typeof text !== 'string') return;
    const chunk = parse(text) as StreamChunk;
    addDocs(chunk.d);
    const writes = chunk.w;
    if (writes && writes.length > 0) {
      const cache = target.cache as unknown as CacheWriter & ApolloClient['cache'];
      cache.batch({
        update: () => {
          for (const [docId, variables, result, dataId, overwrite] of writes) {
            cache.write({
              query: documentById(docId),
              variables,
              result,
              ...(dataId === undefined ? {} : { dataId }),
              ...(overwrite ? { overwrite } : {}),
            });
          }
        },
      });
    }
    addErrors(chunk.e);
    addServed(chunk.s);
    addRunning(chunk.p);
    finishRunning(chunk.f);
  };

  const printedOf = (query: DocumentNode): string => {
    let text = printed.get(query);
    if (text === undefined) {
      text = print(query);
      printed.set(query, text);
    }
    return text;
  };

  const queryKey = (query: DocumentNode, options: unknown): string =>
    `${printedOf(query)}|${canonicalStringify(optionsOf(options).variables ?? {})}`;

  const errorFor = (query: DocumentNode, options: unknown): Error | undefined =>
    errors.size === 0 ? undefined : errors.get(queryKey(query, options));

  const servedLookup: ServedLookup = {
    policy: () => client?.defaultOptions.watchQuery?.fetchPolicy,
    has: (query, hookOptions) => served.size > 0 && served.has(queryKey(query, hookOptions)),
    key: queryKey,
  };

  /**
   * Answers an operation the server still has in flight with the server's result once it
   * arrives in the stream, instead of sending it again; any other operation goes on.
   */
  const serverResultLink = new ApolloLink((operation, forward) => {
    if (running.size === 0) return forward(operation);
    const run = running.get(
      `${printedOf(operation.query)}|${canonicalStringify(operation.variables ?? {})}`,
    );
    if (!run) return forward(operation);
    return new Observable<ApolloLink.Result>((subscriber) => {
      let closed = false;
      let inner: Subscription | undefined;
      void run.done.then(() => {
        if (closed) return;
        const diff = client!.cache.diff<Record<string, unknown>>({
          query: operation.query,
          variables: operation.variables,
          returnPartialData: false,
          optimistic: false,
        });
        if (diff.complete && diff.result) {
          subscriber.next({ data: diff.result });
          subscriber.complete();
        } else {
          inner = forward(operation).subscribe(subscriber);
        }
      });
      return () => {
        closed = true;
        inner?.unsubscribe();
      };
    });
  });

  const wrappers: HookWrappers = {
    useQuery: ((original: AnyHook): AnyHook =>
      // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
      function useKilnHydratingQuery(query, hookOptions) {
        const hydrating = useIsHydrating();
        const result = original(
          query,
          useHydratingOptions(servedLookup, query, hookOptions, hydrating, true),
        );
        // A query that failed on the server shows that error, as it did there.
        const error = usePinnedServerError(result, () =>
          hydrating ? errorFor(query, hookOptions) : undefined,
        );
        if (!error) return result;
        return result.loading
          ? {
              ...result,
              loading: false,
              networkStatus: 8,
              error,
              data: undefined,
              dataState: 'empty',
            }
          : { ...result, networkStatus: 8, error };
      }) as unknown as HookWrappers['useQuery'],
    useSuspenseQuery: ((original: AnyHook): AnyHook =>
      // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
      function useKilnHydratingSuspenseQuery(query, hookOptions) {
        const hydrating = useIsHydrating();
        const result = original(
          query,
          useHydratingOptions(servedLookup, query, hookOptions, hydrating, false),
        );
        // With `errorPolicy: 'all'` the server rendered the partial data with its error; the
        // cache holds only the data.
        const error = usePinnedServerError(result, () => {
          const policy =
            (typeof hookOptions === 'object' && hookOptions !== null
              ? (hookOptions as { errorPolicy?: string }).errorPolicy
              : undefined) ?? client?.defaultOptions.watchQuery?.errorPolicy;
          return hydrating && policy === 'all' ? errorFor(query, hookOptions) : undefined;
        });
        return error ? { ...result, error } : result;
      }) as unknown as HookWrappers['useSuspenseQuery'],
    useBackgroundQuery: ((original: (query: DocumentNode, options?: unknown) => unknown) =>
      // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
      function useKilnHydratingBackgroundQuery(query: DocumentNode, hookOptions?: unknown) {
        const hydrating = useIsHydrating();
        return original(
          query,
          useHydratingOptions(servedLookup, query, hookOptions, hydrating, false),
        );
      }) as unknown as HookWrappers['useBackgroundQuery'],
  };

  return {
    name: 'apollo',
    get client() {
      return client;
    },
    before() {
      client = options.makeClient();
      client.setLink(ApolloLink.from([serverResultLink, client.link]));
      const buffered = readState(key) as BufferedState | undefined;
      if (buffered) {
        client.cache.restore(buffered.cache as never);
        addDocs(buffered.d);
        addErrors(buffered.e);
        addServed(buffered.s);
      }
      const scope = globalThis as unknown as Record<string, { push(...items: unknown[]): number }>;
      const name = queueName(key);
      const queued = scope[name];
      if (Array.isArray(queued)) for (const text of queued) applyChunk(text);
      scope[name] = {
        push(...items: unknown[]) {
          for (const text of items) applyChunk(text);
          return 0;
        },
      };
      if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', releaseAll, { once: true });
      }
    },
    wrap(app: ReactNode) {
      if (!client) {
        throw new KilnApolloError(
          'KILN_APOLLO_NO_CLIENT',
          'apolloClient().wrap() ran before before(); pass the plugin to hydrate() from @kiln/core/client',
        );
      }
      return createElement(KilnApolloProvider, { client, wrappers }, app);
    },
  };
}
