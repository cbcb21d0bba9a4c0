import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { apollo, defaultForwardedHeaders, forwardHeaders } from '@kiln/apollo';
import { createSchema, createYoga } from 'graphql-yoga';
import type { ReactNode } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataCache, dataCache } from '../src/data-cache';
import { memoryStore } from '../src/memory-store';
import { type PageCache, pageCache } from '../src/page-cache';

const counts = { product: 0 };
const yoga = createYoga({
  logging: false,
  schema: createSchema({
    typeDefs: 'type Product { id: ID!, name: String! } type Query { product(id: ID!): Product }',
    resolvers: {
      Query: {
        product: (_: unknown, { id }: { id: string }, context: { request: Request }) => {
          counts.product++;
          const language = context.request.headers.get('accept-language');
          return { id, name: language ? `Product ${id} (${language})` : `Product ${id}` };
        },
      },
    },
  }),
});
const server = createServer(yoga);
let endpoint = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const PRODUCT = gql`query Product($id: ID!) { product(id: $id) { id name } }`;

function ProductName(props: { id: string }): ReactNode {
  const { data } = useQuery<{ product: { name: string } }>(PRODUCT, {
    variables: { id: props.id },
  });
  return <h1 id="name">{data?.product.name ?? 'loading'}</h1>;
}

function Doc(props: { id: string }): ReactNode {
  return (
    <html lang="en">
      <head>
        <title>Product</title>
      </head>
      <body>
        <ProductName id={props.id} />
      </body>
    </html>
  );
}

/** The Apollo plugin of a shop whose client forwards `names` through the data-cache link. */
function shopPlugins(data: DataCache, pages: PageCache, names: readonly string[]) {
  return [
    apollo({
      makeClient: (ctx) =>
        new ApolloClient({
          ssrMode: true,
          cache: new InMemoryCache(),
          link: ApolloLink.from([
            data.link({ headers: forwardHeaders(ctx, names), page: pages.controlFor(ctx) }),
            new HttpLink({ uri: endpoint, fetch: data.fetch() }),
          ]),
        }),
    }),
  ];
}

describe('page cache with the Apollo plugin and the data cache', () => {
  it('tags pages with the data they used and drops both on invalidation', async () => {
    const store = memoryStore();
    const data = dataCache({
      store,
      operations: { Product: { ttl: 60_000, tags: (vars) => [`product:${String(vars.id)}`] } },
    });
    const pages = pageCache({ store, ttl: 60_000 });
    const plugins = shopPlugins(data, pages, ['cookie', 'authorization']);
    const render = (path: string, headers: Record<string, string> = {}) =>
      pages.render(<Doc id={path.split('/').pop() ?? ''} />, {
        request: new Request(`http://shop.test${path}`, { headers }),
        plugins,
      });

    const first = await render('/products/5');
    expect(first.cache).toMatchObject({ status: 'miss', stored: true, tags: ['product:5'] });
    expect(await first.text()).toContain('Product 5');
    await pages.idle();
    expect(counts.product).toBe(1);

    const personal = await render('/products/5', { cookie: 'user=alice' });
    expect(personal.cache.status).toBe('bypass');
    expect(await personal.text()).toContain('Product 5');
    expect(counts.product).toBe(2);

    const other = await render('/products/6');
    await other.text();
    await pages.idle();
    expect((await render('/products/5')).cache.status).toBe('hit');

    expect(await pages.invalidate('product:5')).toBe(2);
    const again = await render('/products/5');
    expect(again.cache.status).toBe('miss');
    expect(await again.text()).toContain('Product 5');
    expect(counts.product).toBe(4);
    expect((await render('/products/6')).cache.status).toBe('hit');
  });

  it('does not store a page whose render forwarded a header the key does not hold', async () => {
    const store = memoryStore();
    const data = dataCache({ store, operations: { Product: { ttl: 60_000 } } });
    // forwardHeaders' default list holds accept-language.
    const plugins = (pages: PageCache) => shopPlugins(data, pages, defaultForwardedHeaders);
    const render = (pages: PageCache, language: string) =>
      pages.render(<Doc id="7" />, {
        request: new Request('http://shop.test/products/7', {
          headers: { 'accept-language': language },
        }),
        plugins: plugins(pages),
      });

    const unkeyed = pageCache({ store, ttl: 60_000, namespace: 'unkeyed:' });
    const attacker = await render(unkeyed, 'xx');
    expect(await attacker.text()).toContain('Product 7 (xx)');
    expect(attacker.cache).toMatchObject({
      status: 'miss',
      stored: false,
      reason: expect.stringContaining('request header accept-language'),
    });
    await unkeyed.idle();
    const visitor = await render(unkeyed, 'en');
    expect(visitor.cache.status).toBe('miss');
    const html = await visitor.text();
    expect(html).toContain('Product 7 (en)');
    expect(html).not.toContain('(xx)');

    const keyed = pageCache({ store, ttl: 60_000, namespace: 'keyed:', vary: ['accept-language'] });
    expect((await render(keyed, 'xx')).cache).toMatchObject({ status: 'miss', stored: true });
    await keyed.idle();
    const en = await render(keyed, 'en');
    expect(en.cache.status).toBe('miss');
    expect(await en.text()).toContain('Product 7 (en)');
    expect((await render(keyed, 'xx')).cache.status).toBe('hit');
  });
});
