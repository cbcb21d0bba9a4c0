import { type ApolloClient, ApolloLink } from '@apollo/client';
import type { KilnClientPlugin } from '@kiln/core/client';
import { readState } from '@kiln/serialize/client';
import { createElement, type ReactNode } from 'react';
import { KilnApolloError } from '../shared/errors';
import { KilnApolloProvider } from '../shared/provider';
import { type BufferedState, isValidKey, queueName } from '../shared/transport';
import { hydratingHookWrappers } from './hydrating-hooks';
import { ServerRecord } from './server-record';
import { serverResultLink } from './server-result-link';
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
  const getClient = (): ApolloClient | undefined => client;
  const record = new ServerRecord();
  const wrappers = hydratingHookWrappers(record, getClient);

  /** Receives what the server sent: the buffered state, then every streamed chunk. */
  const receive = (target: ApolloClient): void => {
    const buffered = readState(key) as BufferedState | undefined;
    if (buffered) record.applyBuffered(buffered, target);
    const scope = globalThis as unknown as Record<string, { push(...items: unknown[]): number }>;
    const name = queueName(key);
    const queued = scope[name];
    if (Array.isArray(queued)) for (const text of queued) record.applyChunk(text, target);
    scope[name] = {
      push(...items: unknown[]) {
        for (const text of items) record.applyChunk(text, target);
        return 0;
      },
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', () => record.releaseAll(), { once: true });
    }
  };

  return {
    name: 'apollo',
    get client() {
      return client;
    },
    before() {
      client = options.makeClient();
      client.setLink(ApolloLink.from([serverResultLink(record, getClient), client.link]));
      receive(client);
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
