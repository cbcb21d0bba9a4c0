import { ApolloClient, gql, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { SchemaLink } from '@apollo/client/link/schema';
import { useFragment, useQuery } from '@apollo/client/react';
import { serialize } from '@kiln/serialize';
import { findAll, parseDocument, textOf } from '@kiln/test-utils';
import type { ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ServerRecord } from '../src/client/server-record';
import { DirectResults, directResultsObstacle } from '../src/server/direct-results';
import { KilnApolloProvider } from '../src/shared/provider';
import { PRODUCTS, Shop, SuspenseShop } from './fixtures/app';
import { createTestSchema } from './fixtures/graphql-server';
import {
  bufferedStateOf,
  graphqlServerForTests,
  streamedChunks,
  textById,
} from './fixtures/lifecycle';
import {
  countingBrowserClient,
  type Rendered,
  type RenderOptions,
  render,
} from './fixtures/render';

const gql$ = graphqlServerForTests();

/** The page's body without its scripts (the state differs in form, not the markup). */
function bodyOf(html: string): string {
  return (/<body>([\s\S]*?)<\/body>/.exec(html)?.[1] ?? '').replace(
    /<script[\s\S]*?<\/script>/g,
    '',
  );
}

const PRODUCT_NAME: TypedDocumentNode<{ id: string; name: string }> = gql`
  fragment ProductName on Product {
    id
    name
  }
`;

/** A card that reads its product's name from the cache, as fragment colocation does. */
function NameFromCache({ id }: { id: string }): ReactNode {
  const { data, complete } = useFragment({
    fragment: PRODUCT_NAME,
    from: { __typename: 'Product', id },
  });
  return <li>{complete ? data.name : 'missing'}</li>;
}

const PRODUCT_NAMES: TypedDocumentNode<
  { products: { id: string; name: string }[] },
  { first: number }
> = gql`
  query ProductNames($first: Int!) {
    products(first: $first) {
      id
      name
    }
  }
`;

/** Names asked again by a second query that the first one's result answers. */
function Names(): ReactNode {
  const { data } = useQuery(PRODUCT_NAMES, { variables: { first: 3 } });
  return <p id="names">{data?.products.map((p) => p.name).join(', ')}</p>;
}

/** Products, then their names twice: from a fragment read and from a second query. */
function Overlapping(): ReactNode {
  const { data } = useQuery(PRODUCTS, { variables: { first: 3 } });
  if (!data) return <p>loading</p>;
  return (
    <main>
      <ul>
        {data.products.map((p) => (
          <NameFromCache key={p.id} id={p.id} />
        ))}
      </ul>
      <Names />
    </main>
  );
}

const DEFAULT_FIRST: TypedDocumentNode<
  { products: { id: string; name: string }[] },
  { first?: number }
> = gql`
  query DefaultFirst($first: Int! = 2) {
    products(first: $first) {
      id
      name
    }
  }
`;

/** A query whose variable has a default value, asked for without variables. */
function Defaulted(): ReactNode {
  const { data } = useQuery(DEFAULT_FIRST);
  return <p id="defaulted">{data?.products.map((p) => p.name).join(', ')}</p>;
}

/** `app` rendered with direct results (the default) and with `directResults: false`. */
async function renderBoth(
  app: ReactNode,
  options: RenderOptions,
): Promise<{ direct: Rendered; eager: Rendered }> {
  const direct = await render(gql$.server.url, app, options);
  const eager = await render(gql$.server.url, app, {
    ...options,
    pluginOptions: { directResults: false },
  });
  return { direct, eager };
}

describe('direct results (hooks read what the server fetched)', () => {
  it('renders the useQuery waterfall from the fetched results; the browser cache ends as Apollo would leave it', async () => {
    const { direct, eager } = await renderBoth(<Shop />, { mode: 'buffer', cookie: 'user=Ada' });
    expect(direct.errors).toEqual([]);
    expect(direct.apollo.direct).toBeGreaterThanOrEqual(6);
    expect(eager.apollo.direct).toBe(0);
    expect(direct.apollo.operations).toBe(eager.apollo.operations);
    expect(bodyOf(direct.html)).toBe(bodyOf(eager.html));
    expect(textById(direct.html, 'greeting')).toBe('Hello, Ada');

    // the results kept apart travel as writes; replayed after the cache, they give Apollo's cache
    const state = bufferedStateOf(direct.html);
    expect(state.w?.length).toBeGreaterThan(0);
    expect(bufferedStateOf(eager.html).w).toBeUndefined();
    const browser = countingBrowserClient();
    new ServerRecord().applyBuffered(state, browser.client);
    expect(browser.client.cache.extract()).toEqual(bufferedStateOf(eager.html).cache);
    const html = renderToString(
      <KilnApolloProvider client={browser.client} wrappers={{}}>
        <Shop />
      </KilnApolloProvider>,
    );
    expect(browser.requests()).toBe(0);
    expect(html).toBe(bodyOf(direct.html));
    browser.client.stop();
  });

  it('streams the same writes Apollo would make, in the order they arrived', async () => {
    const { direct, eager } = await renderBoth(<SuspenseShop />, { cookie: 'user=Ada' });
    expect(direct.errors).toEqual([]);
    expect(direct.apollo.direct).toBeGreaterThan(0);
    expect(bodyOf(direct.html)).toBe(bodyOf(eager.html));
    const caches = [direct, eager].map((out) => {
      const browser = countingBrowserClient();
      const record = new ServerRecord();
      for (const chunk of streamedChunks(out.html))
        record.applyChunk(serialize(chunk), browser.client);
      const extract = browser.client.cache.extract();
      browser.client.stop();
      return extract;
    });
    expect(caches[0]).toEqual(caches[1]);
  });

  it('writes the kept results into the cache before a fragment or another query reads it', async () => {
    const { direct, eager } = await renderBoth(<Overlapping />, { mode: 'buffer' });
    expect(direct.errors).toEqual([]);
    expect(bodyOf(direct.html)).not.toContain('missing');
    expect(bodyOf(direct.html)).toBe(bodyOf(eager.html));
    expect(findAll(parseDocument(direct.html), 'li').map(textOf)).toEqual([
      'Product 1',
      'Product 2',
      'Product 3',
    ]);
    // the second query is answered by the first one's result, with no request of its own
    expect(direct.apollo.operations).toBe(1);
    expect(eager.apollo.operations).toBe(1);
  });

  it('stays off where a read would not return what was written', async () => {
    const merge = new InMemoryCache({
      typePolicies: { Query: { fields: { products: { merge: (_, incoming) => incoming } } } },
    });
    const read = new InMemoryCache({
      typePolicies: {
        Product: { fields: { name: { read: (name: string) => name.toUpperCase() } } },
      },
    });
    const keyed = new InMemoryCache({ typePolicies: { Product: { keyFields: ['id'] } } });
    const link = new SchemaLink({
      schema: createTestSchema({ stamp: 0, productCount: 0, reviewDelayMs: 0 }),
    });
    const client = (cache: InMemoryCache, dataMasking = false) =>
      new ApolloClient({ cache, link, dataMasking });
    expect(directResultsObstacle(client(new InMemoryCache()))).toBeUndefined();
    expect(directResultsObstacle(client(keyed))).toBeUndefined();
    expect(directResultsObstacle(client(merge))).toMatch(/read, merge or scalar/);
    expect(directResultsObstacle(client(read))).toMatch(/read, merge or scalar/);
    expect(directResultsObstacle(client(new InMemoryCache(), true))).toMatch(/dataMasking/);
  });

  it('keeps results apart until the cache is read otherwise, then writes them in arrival order', () => {
    const cache = new InMemoryCache();
    const counts = { direct: 0 };
    const direct = new DirectResults(cache, counts);
    const query = cache.transformDocument(PRODUCTS);
    const first = { products: [{ __typename: 'Product', id: 'p1', name: 'Old', price: 1 }] };
    const second = { products: [{ __typename: 'Product', id: 'p1', name: 'New', price: 2 }] };
    direct.add(query, { first: 1 }, first);
    direct.add(query, { first: 2 }, second);
    expect(cache.diff({ query, variables: { first: 1 }, optimistic: false })).toEqual({
      result: first,
      complete: true,
    });
    expect(counts.direct).toBe(1);
    expect(direct.extractApart().writes).toHaveLength(2);
    // nothing was written yet
    expect(direct.extractApart().cache).toEqual({});
    // a read of anything else writes both first, in order: the later one wins the entity
    expect(cache.readFragment({ fragment: PRODUCT_NAME, id: 'Product:p1' })?.name).toBe('New');
    expect(direct.extractApart().writes).toHaveLength(0);
    // still served as fetched (its own result), as Apollo's read at arrival would have been
    expect(cache.diff({ query, variables: { first: 1 }, optimistic: false }).result).toBe(first);
    // a change of the cache ends the serving: reads are the cache's from then on
    cache.modify({ id: 'Product:p1', fields: { name: () => 'Changed' } });
    expect(direct.active).toBe(false);
    const after = cache.diff<typeof first>({ query, variables: { first: 1 }, optimistic: false });
    expect(after.result?.products?.[0]?.name).toBe('Changed');
    direct.release();
    expect(Object.hasOwn(cache, 'diff')).toBe(false);
  });

  it('renders a query whose variables have defaults as Apollo does', async () => {
    const { direct, eager } = await renderBoth(<Defaulted />, { mode: 'buffer' });
    expect(direct.errors).toEqual([]);
    expect(textById(direct.html, 'defaulted')).toBe('Product 1, Product 2');
    expect(bodyOf(direct.html)).toBe(bodyOf(eager.html));
    const browser = countingBrowserClient();
    new ServerRecord().applyBuffered(bufferedStateOf(direct.html), browser.client);
    expect(browser.client.cache.extract()).toEqual(bufferedStateOf(eager.html).cache);
    browser.client.stop();
  });
});
