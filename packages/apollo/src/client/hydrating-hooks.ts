import type { ApolloClient } from '@apollo/client';
import type { HookWrappers } from '@apollo/client/react/internal';
import type { DocumentNode } from 'graphql';
import { useRef, useSyncExternalStore } from 'react';
import type { ServerRecord } from './server-record';

interface QueryResultLike {
  loading?: boolean;
  error?: unknown;
  networkStatus?: number;
}

type AnyHook = (query: DocumentNode, options?: unknown) => QueryResultLike;

type HookOptionsLike = {
  variables?: Record<string, unknown>;
  fetchPolicy?: string;
  nextFetchPolicy?: unknown;
  errorPolicy?: string;
};

/** Policies under which a hook fetches though the cache holds its data. */
const REFETCHING = new Set<string>(['network-only', 'cache-and-network']);

const optionsOf = (options: unknown): HookOptionsLike =>
  typeof options === 'object' && options !== null ? (options as HookOptionsLike) : {};

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

/**
 * The options a hook runs with: while the server's result for its query and variables is the
 * one it hydrated with, a `network-only` or `cache-and-network` hook reads the cache
 * (`cache-first`), and goes back to its own policy for what comes next (`nextFetchPolicy`,
 * `initialFetchPolicy`: refetches, new variables). Decided per hook at its hydrating render,
 * never by a timer.
 */
function useHydratingOptions(
  record: ServerRecord,
  defaultPolicy: string | undefined,
  query: DocumentNode,
  hookOptions: unknown,
  hydrating: boolean,
  withNext: boolean,
): unknown {
  const opts = optionsOf(hookOptions);
  const policy = opts.fetchPolicy ?? defaultPolicy;
  const refetching = policy !== undefined && REFETCHING.has(policy);
  const first = useRef<string | null>(undefined as never);
  if (first.current === undefined) {
    first.current =
      hydrating && refetching && record.hasServed(query, hookOptions)
        ? record.keyOf(query, hookOptions)
        : null;
  }
  if (first.current === null || !refetching) return hookOptions;
  if (record.keyOf(query, hookOptions) !== first.current) return hookOptions;
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
 * Apollo's hook wrappers for the browser: each hook that hydrates reads what the server sent
 * for it (a refetching policy reads the cache, a query that failed on the server shows the
 * same error), so its first render equals the server HTML and makes no request.
 */
export function hydratingHookWrappers(
  record: ServerRecord,
  client: () => ApolloClient | undefined,
): HookWrappers {
  const defaultPolicy = () => client()?.defaultOptions.watchQuery?.fetchPolicy;
  return {
    useQuery: ((original: AnyHook): AnyHook =>
      // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
      function useKilnHydratingQuery(query, hookOptions) {
        const hydrating = useIsHydrating();
        const result = original(
          query,
          useHydratingOptions(record, defaultPolicy(), query, hookOptions, hydrating, true),
        );
        // A query that failed on the server shows that error, as it did there.
        const error = usePinnedServerError(result, () =>
          hydrating ? record.errorFor(query, hookOptions) : undefined,
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
          useHydratingOptions(record, defaultPolicy(), query, hookOptions, hydrating, false),
        );
        // With `errorPolicy: 'all'` the server rendered the partial data with its error; the
        // cache holds only the data.
        const error = usePinnedServerError(result, () => {
          const policy =
            optionsOf(hookOptions).errorPolicy ?? client()?.defaultOptions.watchQuery?.errorPolicy;
          return hydrating && policy === 'all' ? record.errorFor(query, hookOptions) : undefined;
        });
        return error ? { ...result, error } : result;
      }) as unknown as HookWrappers['useSuspenseQuery'],
    useBackgroundQuery: ((original: (query: DocumentNode, options?: unknown) => unknown) =>
      // biome-ignore lint/correctness/noComponentHookFactories: Apollo's hook wrappers (wrapperSymbol) are hook factories by design
      function useKilnHydratingBackgroundQuery(query: DocumentNode, hookOptions?: unknown) {
        const hydrating = useIsHydrating();
        return original(
          query,
          useHydratingOptions(record, defaultPolicy(), query, hookOptions, hydrating, false),
        );
      }) as unknown as HookWrappers['useBackgroundQuery'],
  };
}
