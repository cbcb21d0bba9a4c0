import { type ApolloClient, NetworkStatus, type WatchQueryFetchPolicy } from '@apollo/client';
import { skipToken, useApolloClient } from '@apollo/client/react';
import type { HookWrappers } from '@apollo/client/react/internal';
import type { DocumentNode } from 'graphql';
import { use, useState } from 'react';
import type { HookFetchOptions, RequestSession } from './session';

/** The subset of `useQuery` / `useSuspenseQuery` options the server strategy reads. */
interface HookOptions extends HookFetchOptions {
  client?: ApolloClient;
  skip?: boolean;
  ssr?: boolean;
  fetchPolicy?: WatchQueryFetchPolicy;
}

type HookOptionsArg = HookOptions | typeof skipToken | undefined;

interface QueryResultLike {
  loading?: boolean;
  data?: unknown;
  dataState?: string;
  error?: unknown;
  networkStatus?: NetworkStatus;
}

type AnyHook = (query: DocumentNode, options?: unknown) => QueryResultLike;

/** Policies under which Apollo never fetches during SSR, so neither does Kiln. */
const NO_SERVER_FETCH = new Set<string>(['standby', 'cache-only', 'no-cache']);

function fetchableOptions(
  options: HookOptionsArg,
  defaultPolicy: WatchQueryFetchPolicy | undefined,
  allowSsrFalse: boolean,
): HookOptions | undefined {
  if (options === skipToken) return undefined;
  const opts = options ?? {};
  if (opts.skip) return undefined;
  if (!allowSsrFalse && opts.ssr === false) return undefined;
  const policy = opts.fetchPolicy ?? defaultPolicy;
  if (policy && NO_SERVER_FETCH.has(policy)) return undefined;
  return opts;
}

/** The hook's client and, when the server fetches its query, its options. */
function useFetchable(
  session: RequestSession,
  query: DocumentNode,
  options: unknown,
  allowSsrFalse: boolean,
): { client: ApolloClient; fetchable: HookOptions | undefined } {
  const opts = options as HookOptionsArg;
  const client = useApolloClient(typeof opts === 'object' ? opts.client : undefined);
  const fetchable =
    client === session.client
      ? fetchableOptions(opts, client.defaultOptions.watchQuery?.fetchPolicy, allowSsrFalse)
      : undefined;
  // A personal operation suspends here for good during a partial pre-render (its boundary
  // becomes a hole), before anything is fetched or read.
  if (fetchable) session.beforeFetch?.(query, fetchable.variables);
  return { client, fetchable };
}

/** What {@link useServerFetch} found. */
interface ServerFetch {
  /** The options the query was fetched with (undefined when the hook fetches nothing on the server, or uses another client). */
  fetchable: HookOptions | undefined;
  /** True in a run React throws away (see `startSiblings`): what the hook returns is never shown. */
  discarded: boolean;
}

/**
 * Fetches the hook's query into the request's client when it lacks it, suspending until it
 * arrives, and returns the options it was fetched with. Calls `use()` exactly once on every
 * render.
 *
 * With `startSiblings`, a hook whose fetch is pending does not suspend on the first run of its
 * component: it lets the component run to its end, so the component's later hooks start their
 * fetches too, and asks React for an immediate second run (a render-phase update: React runs
 * the component again before it renders anything below it and throws the first run's output
 * away). In that second run the hook suspends. So the independent queries of one component
 * travel together and the rest of the tree still renders once.
 */
function useServerFetch(
  session: RequestSession,
  query: DocumentNode,
  options: unknown,
  allowSsrFalse: boolean,
  startSiblings: boolean,
  initial = false,
): ServerFetch {
  const { client, fetchable } = useFetchable(session, query, options, allowSsrFalse);
  const [secondRun, setSecondRun] = useState(false);
  const thenable = fetchable ? session.ensure(query, fetchable, initial) : session.ready;
  let discarded = false;
  if (startSiblings && thenable.status === 'pending') {
    if (secondRun) {
      // Thrown, not passed to use(): React replays use() by call order within one attempt,
      // and the first run used a fulfilled thenable at this index.
      throw thenable;
    }
    setSecondRun(true);
    use(session.ready);
    discarded = true;
  } else {
    use(thenable);
  }
  if (fetchable) markIfRefetching(session, query, fetchable, client);
  return { fetchable, discarded };
}

/** Policies whose hooks would fetch again in the browser though the server sent the data. */
const REFETCHING = new Set<string>(['network-only', 'cache-and-network']);

function markIfRefetching(
  session: RequestSession,
  query: DocumentNode,
  options: HookOptions,
  client: ApolloClient,
): void {
  const policy = options.fetchPolicy ?? client.defaultOptions.watchQuery?.fetchPolicy;
  if (policy && REFETCHING.has(policy)) session.markServed(query, options.variables);
}

/**
 * The server-side hook wrappers of the one-pass strategy. Every wrapped hook calls `use()`
 * exactly once on every render (React replays `use()` results by call order when it retries
 * a suspended component, so the count must not change between attempts), then lets Apollo's
 * own hook read the cache:
 *
 * - `useQuery`: when the cache lacks the query, it is fetched with `client.query` (one fetch
 *   per document and variables, shared) and the component suspends until it arrives, so React
 *   retries only the waiting component instead of rendering the tree again. A failed fetch is
 *   rendered as Apollo renders it in the browser: `error` set, `loading` false.
 * - `useSuspenseQuery`: fetched the same way before Apollo's hook runs, which then finds the
 *   data in the cache and keeps no request of its own. A failure with `errorPolicy: 'none'` is
 *   thrown, as Apollo does, so the nearest Suspense boundary is retried in the browser; with
 *   `errorPolicy: 'all'` the partial data is returned with its `error`, as Apollo does.
 *
 * `skip`, `skipToken`, `ssr: false` (for `useQuery`) and the `standby`, `cache-only` and
 * `no-cache` policies fetch nothing on the server, as Apollo documents.
 */
export function serverHookWrappers(session: RequestSession): HookWrappers {
  const wrapQuery = (original: AnyHook): AnyHook =>
    // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
    function useKilnServerQuery(query, options) {
      const { fetchable, discarded } = useServerFetch(session, query, options, false, true);
      // A run React throws away reads the cache as it is (Apollo's loading state, never shown)
      const result = discarded
        ? session.discardedRead(() => original(query, options))
        : original(query, options);
      if (!fetchable || result.error !== undefined) return result;
      const failure = session.errorFor(query, fetchable.variables);
      if (!failure) return result;
      return {
        ...result,
        loading: false,
        networkStatus: NetworkStatus.error,
        error: failure.error,
        data: failure.errorPolicy === 'none' ? undefined : result.data,
        dataState:
          failure.errorPolicy === 'none' || result.data === undefined ? 'empty' : result.dataState,
      };
    };

  const wrapSuspenseQuery = (original: AnyHook): AnyHook =>
    // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
    function useKilnServerSuspenseQuery(query, options) {
      // A query with @defer renders from its initial payload, as in the browser; the deferred
      // parts stream into the Suspense boundaries of the components that read them
      // (useSuspenseFragment), each when its data is in the cache.
      const { fetchable } = useServerFetch(session, query, options, true, false, true);
      const failure = fetchable ? session.errorFor(query, fetchable.variables) : undefined;
      if (failure && failure.errorPolicy === 'none') throw failure.error;
      const result = original(query, options);
      // Apollo reads the partial data from the cache, which keeps no errors: with
      // `errorPolicy: 'all'` the error comes along, as in the browser.
      if (failure?.errorPolicy === 'all' && result.error === undefined) {
        return { ...result, error: failure.error };
      }
      return result;
    };

  const wrapBackgroundQuery = (original: AnyHook): AnyHook =>
    // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
    function useKilnServerBackgroundQuery(query, options) {
      // Apollo's own hook fetches; Kiln only notes what the browser must not fetch again.
      const { client, fetchable } = useFetchable(session, query, options, true);
      if (fetchable) markIfRefetching(session, query, fetchable, client);
      return original(query, options);
    };

  return {
    useBackgroundQuery: wrapBackgroundQuery as unknown as HookWrappers['useBackgroundQuery'],
    useQuery: wrapQuery as unknown as HookWrappers['useQuery'],
    useSuspenseQuery: wrapSuspenseQuery as unknown as HookWrappers['useSuspenseQuery'],
  };
}
