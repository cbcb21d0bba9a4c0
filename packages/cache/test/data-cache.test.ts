import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { type RedisServer, startRedis } from '@kiln/test-utils';
import { createSchema, createYoga } from 'graphql-yoga';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControl } from '../src/control';
import { dataCache } from '../src/data-cache';
import { memoryStore } from '../src/memory-store';
import { redisStore } from '../src/redis-store';

interface Calls {
  product: number;
  products: number;
  viewer: number;
  broken: number;
  rename: number;
  headers: Record<string, string>[];
}

const calls: Calls = { product: 0, products: 0, viewer: 0, broken: 0, rename: 0, headers: [] };
const names: Record<string, string> = { '1': 'Lamp', '2': 'Chair' };

const yoga = createYoga({
  logging: false,
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type Product { id: ID!, name: String! }
      type Query { product(id: ID!): Product, products: [Product!]!, viewer: String, broken: String }
      type Mutation { rename(id: ID!, name: String!): Product }
    `,
    resolvers: {
      Query: {
        product: async (_: unknown, { id }: { id: string }, context: { request: Request }) => {
          calls.product++;
          calls.headers.push(Object.fromEntries(context.request.headers));
          await new Promise((resolve) => setTimeout(resolve, 20));
          return names[id] ? { id, name: names[id] } : null;
        },
        products: () => {
          calls.products++;
          return Object.entries(names).map(([id, name]) => ({ id, name }));
        },
        viewer: (_: unknown, __: unknown, context: { request: Request }) => {
          calls.viewer++;
          const { headers } = context.request;
          return headers.get('cookie') ?? headers.get('authorization') ?? 'anonymous';
        },
        broken: () => {
          calls.broken++;
          throw new Error('broken');
        },
      },
      Mutation: {
        rename: (_: unknown, { id, name }: { id: string; name: string }) => {
          calls.rename++;
          names[id] = name;
          return { id, name };
        },
      },
    },
  }),
  plugins: [
    {
      onExecutionResult({ request, result, setResult }) {
        const seconds = new URL(request.url).searchParams.get('hint');
        if (seconds && result && !Array.isArray(result) && !('next' in result)) {
          const scope = new URL(request.url).searchParams.get('scope') ?? 'PUBLIC';
          setResult({
            ...result,
            extensions: {
              cacheControl: {
                version: 1,
                hints: [{ path: ['products'], maxAge: Number(seconds), scope }],
              },
            },
          });
        }
      },
      onResponse({ request, response }) {
        const header = new URL(request.url).searchParams.get('cc');
        if (header) response.headers.set('cache-control', header);
      },
    },
  ],
});

let endpoint = '';
const server = createServer(yoga);

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const PRODUCT = gql`query Product($id: ID!) { product(id: $id) { id name } }`;
const PRODUCTS = gql`query Products { products { id name } }`;
const VIEWER = gql`query Viewer { viewer }`;
const BROKEN = gql`query Broken { broken }`;
const RENAME = gql`mutation Rename($id: ID!, $name: String!) { rename(id: $id, name: $name) { id name } }`;

type Cache = ReturnType<typeof dataCache>;

/** One request's client, as `makeClient(ctx)` would build it. */
function client(
  data: Cache,
  options: {
    headers?: Record<string, string>;
    query?: string;
    page?: ReturnType<typeof createControl>;
    /** Headers set on the HttpLink itself, out of the data-cache link's sight. */
    httpHeaders?: Record<string, string>;
    /** The HttpLink's fetch; default `data.fetch()`. */
    fetch?: typeof fetch;
    /** A link between the data-cache link and the HttpLink. */
    after?: ApolloLink;
  } = {},
) {
  const link = data.link({
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.page ? { page: options.page } : {}),
  });
  const http = new HttpLink({
    uri: endpoint + (options.query ?? ''),
    fetch: options.fetch ?? data.fetch(),
    ...(options.httpHeaders ? { headers: options.httpHeaders } : {}),
  });
  const apollo = new ApolloClient({
    ssrMode: true,
    cache: new InMemoryCache(),
    link: ApolloLink.from(options.after ? [link, options.after, http] : [link, http]),
  });
  return { apollo, link };
}

function reset() {
  Object.assign(calls, { product: 0, products: 0, viewer: 0, broken: 0, rename: 0, headers: [] });
}

describe('dataCache', () => {
  it('serves public operations from the store and still fills each request’s own cache', async () => {
    reset();
    const data = dataCache({ store: memoryStore(), operations: { Product: { ttl: 60_000 } } });
    const first = client(data);
    const a = await first.apollo.query({ query: PRODUCT, variables: { id: '1' } });
    const second = client(data);
    const b = await second.apollo.query({ query: PRODUCT, variables: { id: '1' } });
    expect(a.data).toEqual(b.data);
    expect(calls.product).toBe(1);
    expect(first.link.stats).toMatchObject({ misses: 1, stored: 1, hits: 0 });
    expect(second.link.stats).toMatchObject({ hits: 1, misses: 0 });
    expect(second.apollo.cache.extract()).toHaveProperty('Product:1', {
      __typename: 'Product',
      id: '1',
      name: 'Lamp',
    });
    second.apollo.cache.writeQuery({
      query: PRODUCT,
      variables: { id: '1' },
      data: { product: { __typename: 'Product', id: '1', name: 'changed here' } },
    });
    const third = client(data);
    const c = await third.apollo.query({ query: PRODUCT, variables: { id: '1' } });
    expect(c.data).toEqual(a.data);
    await client(data).apollo.query({ query: PRODUCT, variables: { id: '2' } });
    expect(calls.product).toBe(2);
  });

  it('leaves operations the app did not mark public, mutations and results with errors alone', async () => {
    reset();
    const data = dataCache({
      store: memoryStore(),
      operations: { Broken: { ttl: 60_000 }, Rename: { ttl: 60_000 } },
    });
    for (let i = 0; i < 2; i++) {
      await client(data).apollo.query({ query: PRODUCTS });
      await client(data).apollo.query({ query: BROKEN, errorPolicy: 'all' });
      await client(data).apollo.mutate({ mutation: RENAME, variables: { id: '2', name: 'Chair' } });
    }
    expect(calls).toMatchObject({ products: 2, broken: 2, rename: 2 });
  });

  it('never caches requests carrying credentials unless the operation opts in', async () => {
    reset();
    const data = dataCache({
      store: memoryStore(),
      operations: { Viewer: { ttl: 60_000 }, Products: { ttl: 60_000, allowCredentials: true } },
    });
    const alice = await client(data, { headers: { Cookie: 'user=alice' } }).apollo.query({
      query: VIEWER,
    });
    const bob = await client(data, { headers: { cookie: 'user=bob' } }).apollo.query({
      query: VIEWER,
    });
    const token = client(data, { headers: { authorization: 'Bearer t' } });
    await token.apollo.query({ query: VIEWER });
    expect(alice.data).toEqual({ viewer: 'user=alice' });
    expect(bob.data).toEqual({ viewer: 'user=bob' });
    expect(calls.viewer).toBe(3);
    expect(token.link.stats.bypassed).toBe(1);
    const anonymous = await client(data).apollo.query({ query: VIEWER });
    expect(anonymous.data).toEqual({ viewer: 'anonymous' });
    expect((await client(data).apollo.query({ query: VIEWER })).data).toEqual({
      viewer: 'anonymous',
    });
    expect(calls.viewer).toBe(4);

    await client(data, { headers: { cookie: 'user=alice' } }).apollo.query({ query: PRODUCTS });
    await client(data, { headers: { cookie: 'user=bob' } }).apollo.query({ query: PRODUCTS });
    expect(calls.products).toBe(1);
    expect(calls.headers).toEqual([]);
  });

  describe('decides from the final HTTP request, and fails closed', () => {
    // Each case: alice's request carries her cookie by a way the data-cache link cannot see;
    // her result must not be stored, so an anonymous visitor gets the server's own answer.
    const placements: [string, (data: Cache) => Parameters<typeof client>[1]][] = [
      ['credentials on HttpLink({ headers })', () => ({ httpHeaders: { cookie: 'user=alice' } })],
      [
        'credentials added by a custom fetch around data.fetch',
        (data) => {
          const send = data.fetch();
          return {
            fetch: (input, init) =>
              send(input, {
                ...init,
                headers: { ...(init?.headers as Record<string, string>), cookie: 'user=alice' },
              }),
          };
        },
      ],
      [
        'credentials added by an auth link after the data-cache link',
        () => ({
          after: new ApolloLink((operation, forward) => {
            operation.setContext(({ headers }: { headers?: Record<string, string> }) => ({
              headers: { ...headers, authorization: 'Bearer alice' },
            }));
            return forward(operation);
          }),
        }),
      ],
    ];
    it.each(placements)('%s', async (_name, placement) => {
      reset();
      const errors: unknown[] = [];
      const data = dataCache({
        store: memoryStore(),
        operations: { Viewer: { ttl: 60_000 } },
        onError: (error) => errors.push(error),
      });
      const alice = client(data, placement(data));
      const seen = await alice.apollo.query({ query: VIEWER });
      expect(seen.data).not.toEqual({ viewer: 'anonymous' });
      expect(seen.data).toHaveProperty('viewer');
      expect(alice.link.stats).toMatchObject({ misses: 1, stored: 0, refused: 1 });
      expect(errors).toEqual([expect.objectContaining({ code: 'DATA_NOT_STORED' })]);
      expect(String((errors[0] as Error).message)).toContain('credentials');
      const guest = await client(data).apollo.query({ query: VIEWER });
      expect(guest.data).toEqual({ viewer: 'anonymous' });
      expect(calls.viewer).toBe(2);
    });

    it('stores nothing when the HTTP request was not seen by data.fetch', async () => {
      reset();
      const errors: unknown[] = [];
      const data = dataCache({
        store: memoryStore(),
        operations: { Products: { ttl: 60_000 } },
        onError: (error) => errors.push(error),
      });
      for (let i = 0; i < 2; i++) {
        const plain = client(data, { fetch: globalThis.fetch });
        await plain.apollo.query({ query: PRODUCTS });
        expect(plain.link.stats).toMatchObject({ stored: 0, refused: 1 });
      }
      expect(calls.products).toBe(2);
      // One diagnostic per operation and reason, not one per request.
      expect(errors).toHaveLength(1);
      expect(String((errors[0] as Error).message)).toContain('fetch: data.fetch()');
    });

    it('stores nothing fetched with a header its key does not hold', async () => {
      reset();
      const data = dataCache({ store: memoryStore(), operations: { Product: { ttl: 60_000 } } });
      for (const language of ['fr', 'de']) {
        const localised = client(data, { httpHeaders: { 'accept-language': language } });
        await localised.apollo.query({ query: PRODUCT, variables: { id: '1' } });
        expect(localised.link.stats.refused).toBe(1);
      }
      expect(calls.headers.map((h) => h['accept-language'])).toEqual(['fr', 'de']);
    });

    it('treats the listed credentialHeaders as credentials', async () => {
      reset();
      const data = dataCache({
        store: memoryStore(),
        operations: { Products: { ttl: 60_000 } },
        credentialHeaders: ['X-Api-Key'],
      });
      const keyed = client(data, { httpHeaders: { 'x-api-key': 'secret' } });
      await keyed.apollo.query({ query: PRODUCTS });
      expect(keyed.link.stats).toMatchObject({ stored: 0, refused: 1 });
      const visible = client(data, { headers: { 'x-api-key': 'secret' } });
      await visible.apollo.query({ query: PRODUCTS });
      expect(visible.link.stats.bypassed).toBe(1);
      await client(data).apollo.query({ query: PRODUCTS });
      await client(data).apollo.query({ query: PRODUCTS });
      expect(calls.products).toBe(3);
    });
  });

  it('keys results by the non-credential headers it forwards, and forwards them', async () => {
    reset();
    const data = dataCache({ store: memoryStore(), operations: { Product: { ttl: 60_000 } } });
    await client(data, { headers: { 'accept-language': 'fr' } }).apollo.query({
      query: PRODUCT,
      variables: { id: '1' },
    });
    await client(data, { headers: { 'accept-language': 'de' } }).apollo.query({
      query: PRODUCT,
      variables: { id: '1' },
    });
    await client(data, { headers: { 'accept-language': 'fr' } }).apollo.query({
      query: PRODUCT,
      variables: { id: '1' },
    });
    expect(calls.product).toBe(2);
    expect(calls.headers.map((h) => h['accept-language'])).toEqual(['fr', 'de']);
  });

  it('marks operations public through the operation context', async () => {
    reset();
    const data = dataCache({ store: memoryStore(), operations: { Products: { ttl: 60_000 } } });
    for (let i = 0; i < 2; i++) {
      await client(data).apollo.query({
        query: PRODUCT,
        variables: { id: '1' },
        context: { kilnCache: { ttl: 1_000 } },
      });
      await client(data).apollo.query({ query: PRODUCTS, context: { kilnCache: false } });
    }
    expect(calls.product).toBe(1);
    expect(calls.products).toBe(2);
  });

  it('takes the TTL from the server’s cache hints and never caches what the server calls private', async () => {
    reset();
    const data = dataCache({ store: memoryStore(), operations: { Products: {} } });
    await client(data).apollo.query({ query: PRODUCTS });
    await client(data).apollo.query({ query: PRODUCTS });
    expect(calls.products).toBe(2);

    const hinted = client(data, { query: '?hint=30' });
    await hinted.apollo.query({ query: PRODUCTS });
    expect(hinted.link.stats.stored).toBe(1);
    await client(data, { query: '?hint=30' }).apollo.query({ query: PRODUCTS });
    expect(calls.products).toBe(3);

    const fresh = () => dataCache({ store: memoryStore(), operations: { Products: {} } });
    const header = client(fresh(), { query: '?cc=public,%20max-age=20' });
    await header.apollo.query({ query: PRODUCTS });
    expect(header.link.stats.stored).toBe(1);

    const privateHint = client(fresh(), { query: '?hint=30&scope=PRIVATE' });
    await privateHint.apollo.query({ query: PRODUCTS });
    expect(privateHint.link.stats).toMatchObject({ misses: 1, stored: 0 });

    const marked = dataCache({ store: memoryStore(), operations: { Products: { ttl: 60_000 } } });
    const privateHeader = client(marked, { query: '?cc=private,%20max-age=60' });
    await privateHeader.apollo.query({ query: PRODUCTS });
    expect(privateHeader.link.stats.stored).toBe(0);
  });

  it('fetches once for concurrent requests of one result', async () => {
    reset();
    const data = dataCache({ store: memoryStore(), operations: { Product: { ttl: 60_000 } } });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        client(data).apollo.query({ query: PRODUCT, variables: { id: '2' } }),
      ),
    );
    expect(calls.product).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r.data))).size).toBe(1);
  });

  it('tags results, invalidates them, and passes tags and freshness to the page', async () => {
    reset();
    const data = dataCache({
      store: memoryStore(),
      operations: { Product: { ttl: 30_000, tags: (vars) => [`product:${String(vars.id)}`] } },
    });
    const page = createControl();
    await client(data, { page }).apollo.query({ query: PRODUCT, variables: { id: '1' } });
    expect([...page.tags]).toEqual(['product:1']);
    expect(page.maxAgeMs).toBeLessThanOrEqual(30_000);
    expect(page.maxAgeMs).toBeGreaterThan(25_000);
    const cachedPage = createControl();
    await client(data, { page: cachedPage }).apollo.query({
      query: PRODUCT,
      variables: { id: '1' },
    });
    expect([...cachedPage.tags]).toEqual(['product:1']);
    expect(calls.product).toBe(1);
    expect(await data.invalidate('product:1')).toBe(1);
    await client(data).apollo.query({ query: PRODUCT, variables: { id: '1' } });
    expect(calls.product).toBe(2);
    expect(await data.invalidate({ prefix: 'Product:' })).toBe(1);
  });
});

describe('dataCache on Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('shares results between instances and keeps answering while Redis is down', async () => {
    reset();
    const connect = async () => {
      const c = createClient({
        url: redis.url,
        socket: { reconnectStrategy: (retries: number) => Math.min(50 + retries * 50, 300) },
      });
      c.on('error', () => {});
      await c.connect();
      return c;
    };
    const [c1, c2] = await Promise.all([connect(), connect()]);
    const errors: unknown[] = [];
    const storeOne = redisStore(c1, { prefix: 'd:', timeoutMs: 5000 });
    const storeTwo = redisStore(c2, { prefix: 'd:', timeoutMs: 5000 });
    const one = dataCache({
      store: storeOne,
      operations: { Products: { ttl: 60_000, tags: ['products'] } },
    });
    const two = dataCache({
      store: storeTwo,
      operations: { Products: { ttl: 60_000 } },
      onError: (error) => errors.push(error),
    });
    try {
      // The store writes the tag index before the entry, and the link stores a result after
      // answering: wait until every entry the index names exists.
      const stored = async (): Promise<boolean> => {
        const members = await c2.zRange('d:t:products', 0, -1);
        return members.length > 0 && (await c2.exists(members)) === members.length;
      };
      await client(one).apollo.query({ query: PRODUCTS });
      await expect.poll(stored).toBe(true);
      const shared = client(two);
      await shared.apollo.query({ query: PRODUCTS });
      expect(shared.link.stats.hits).toBe(1);
      expect(calls.products).toBe(1);

      await redis.stop();
      const during = await client(two).apollo.query({ query: PRODUCTS });
      expect(during.data).toEqual({ products: expect.any(Array) });
      expect(calls.products).toBe(2);
      expect(errors.length).toBeGreaterThan(0);

      await redis.start();
      // A command caught in flight when Redis stopped may have timed out and
      // started the store's cooldown; the stores say when they take commands.
      await expect.poll(() => storeOne.healthy && storeTwo.healthy, { timeout: 10_000 }).toBe(true);
      expect(await two.invalidate('products')).toBe(0);
      await client(one).apollo.query({ query: PRODUCTS });
      await expect.poll(stored).toBe(true);
      expect(await two.invalidate('products')).toBe(1);
    } finally {
      c1.destroy();
      c2.destroy();
    }
  });
});
