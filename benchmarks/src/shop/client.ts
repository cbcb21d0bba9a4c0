/**
 * Apollo clients for the shop: a fresh `ApolloClient` and `InMemoryCache` per request, executing
 * operations in process against the shop schema through Apollo's `SchemaLink`, with the visitor's
 * `user` cookie as GraphQL context.
 */
import { ApolloClient, ApolloLink, InMemoryCache, type InMemoryCacheConfig } from '@apollo/client';
import { SchemaLink } from '@apollo/client/link/schema';
import type { GraphQLSchema } from 'graphql';
import {
  PRODUCTS_QUERY,
  productsVariables,
  REVIEWS_QUERY,
  reviewsVariables,
  VIEWER_QUERY,
} from './queries';

/** Options of {@link makeClient}. */
export interface MakeClientOptions {
  /** The schema to execute against (from `createSchema()`). */
  schema: GraphQLSchema;
  /** The visitor's `user` cookie; undefined for a guest. */
  user?: string | undefined;
  /** Called once per operation sent to the schema, with its name. */
  onOperation?: (operationName: string | undefined) => void;
  /** Data to start with (from `client.extract()`), as a browser would after hydration. */
  restore?: ReturnType<InMemoryCache['extract']>;
  /** Options of the `InMemoryCache` (e.g. `{ resultCaching: false }` for a read-once server cache). */
  cache?: InMemoryCacheConfig;
}

/**
 * A fresh server-side client (`ssrMode: true`) with its own cache.
 *
 * @example
 * ```ts
 * const client = makeClient({ schema: createSchema(), user: 'ada' });
 * ```
 */
export function makeClient(options: MakeClientOptions): ApolloClient {
  const { onOperation } = options;
  const terminal = new SchemaLink({ schema: options.schema, context: { user: options.user } });
  const link = onOperation
    ? ApolloLink.from([
        new ApolloLink((operation, forward) => {
          onOperation(operation.operationName);
          return forward(operation);
        }),
        terminal,
      ])
    : terminal;
  const cache = new InMemoryCache(options.cache);
  if (options.restore) cache.restore(options.restore);
  return new ApolloClient({ ssrMode: true, cache, link });
}

/**
 * Fetches every operation the page needs (viewer, then products, then the reviews of every
 * product at once) into `client`'s cache with `client.query()`: 62 operations for 60 products.
 * Returns the number of operations.
 *
 * @example
 * ```ts
 * await fillCache(client);
 * const html = renderToString(<ApolloProvider client={client}><ShopPage /></ApolloProvider>);
 * ```
 */
export async function fillCache(client: ApolloClient): Promise<number> {
  const { data: viewerData } = await client.query({ query: VIEWER_QUERY });
  const { data: productsData } = await client.query({
    query: PRODUCTS_QUERY,
    variables: productsVariables(viewerData?.viewer),
  });
  const products = productsData?.products ?? [];
  await Promise.all(
    products.map((product) =>
      client.query({ query: REVIEWS_QUERY, variables: reviewsVariables(product.id) }),
    ),
  );
  return 2 + products.length;
}
