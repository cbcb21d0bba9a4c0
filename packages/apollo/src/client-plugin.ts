import type { ApolloClient } from '@apollo/client';
import type { HookWrappers } from '@apollo/client/react/internal';
import { canonicalStringify } from '@apollo/client/utilities';
import type { KilnClientPlugin } from '@kiln/core/client';
import { parse, readState } from '@kiln/serialize/client';
import { type DocumentNode, parse as parseDocument, print } from 'graphql';
import { createElement, type ReactNode, useEffect, useRef } from 'react';
import { KilnApolloError } from './errors';
import { KilnApolloProvider } from './provider';
import {
  type BufferedState,
  errorFromWire,
  isValidKey,
  queueName,
  type StreamChunk,
  type WireError,
} from './transport';

/** Options of {@link apolloClient}. */
export interface ApolloClientPluginOptions {
  /** Creates the browser's client (one per page). Its cache is filled from what the server sent. */
  makeClient: () => ApolloClient;
  /** The state key given to `apollo()` on the server. Default `'apollo'`. */
  key?: string;
  /**
   * Milliseconds after hydration (and the end of the stream) during which `network-only` and
   * `cache-and-network` queries read the cache instead of fetching, as Apollo's
   * `ssrForceFetchDelay` does. Default 100.
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

/** Calls `onHydrated` once, after React committed the hydrated shell. */
function HydrationEnd(props: { onHydrated: () => void; children?: ReactNode }): ReactNode {
  const { onHydrated } = props;
  useEffect(onHydrated, [onHydrated]);
  return props.children;
}

/**
 * The client plugin for `hydrate()` from `@kiln/core/client`. Before React hydrates, it
 * creates the browser's `ApolloClient` and fills its cache with what the server fetched:
 * the final cache of a buffered page, or, while a page streams, every result the server
 * sent so far and then each new one the moment its script arrives, which is before React
 * reveals the Suspense boundary that shows it. Until hydration is over (plus
 * `forceFetchDelayMs`), `network-only` and `cache-and-network` queries read the cache, and a
 * `useQuery` that failed on the server shows the same error, so the first render equals the
 * server HTML and makes no request.
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
  const delay = options.forceFetchDelayMs ?? 100;
  let client: ApolloClient | undefined;
  const docs = new Map<number, DocumentNode>();
  const docTexts = new Map<number, string>();
  const printed = new WeakMap<DocumentNode, string>();
  const errors = new Map<string, Error>();
  let hydrating = true;

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

  const addErrors = (e: WireError[] | undefined): void => {
    if (!e || !hydrating) return;
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
  };

  const errorFor = (query: DocumentNode, options: unknown): Error | undefined => {
    if (errors.size === 0) return undefined;
    let text = printed.get(query);
    if (text === undefined) {
      text = print(query);
      printed.set(query, text);
    }
    const variables =
      typeof options === 'object' && options !== null
        ? (options as { variables?: Record<string, unknown> }).variables
        : undefined;
    return errors.get(`${text}|${canonicalStringify(variables ?? {})}`);
  };

  const wrappers: HookWrappers = {
    useQuery: ((original: AnyHook): AnyHook =>
      // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
      function useKilnHydratingQuery(query, hookOptions) {
        const result = original(query, hookOptions);
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
        const result = original(query, hookOptions);
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
  };

  const endHydration = (): void => {
    const finish = (): void => {
      setTimeout(() => {
        hydrating = false;
        errors.clear();
        if (client) client.prioritizeCacheValues = false;
      }, delay);
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', finish, { once: true });
    } else {
      finish();
    }
  };

  return {
    name: 'apollo',
    get client() {
      return client;
    },
    before() {
      client = options.makeClient();
      client.prioritizeCacheValues = true;
      const buffered = readState(key) as BufferedState | undefined;
      if (buffered) {
        client.cache.restore(buffered.cache as never);
        addDocs(buffered.d);
        addErrors(buffered.e);
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
    },
    wrap(app: ReactNode) {
      if (!client) {
        throw new KilnApolloError(
          'KILN_APOLLO_NO_CLIENT',
          'apolloClient().wrap() ran before before(); pass the plugin to hydrate() from @kiln/core/client',
        );
      }
      return createElement(
        KilnApolloProvider,
        { client, wrappers },
        createElement(HydrationEnd, { onHydrated: endHydration }, app),
      );
    },
  };
}
