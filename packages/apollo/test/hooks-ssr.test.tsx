import { gql, type TypedDocumentNode } from '@apollo/client';
import {
  createQueryPreloader,
  type QueryRef,
  useApolloClient,
  useBackgroundQuery,
  useFragment,
  useLoadableQuery,
  useQuery,
  useReadQuery,
} from '@apollo/client/react';
import { type ReactNode, Suspense, useState } from 'react';
import { describe, expect, it } from 'vitest';
import { PRODUCTS, STAMP } from './fixtures/app';
import { graphqlServerForTests, streamedChunks, textById } from './fixtures/lifecycle';
import { render } from './fixtures/render';

/**
 * The hooks Apollo documents for server rendering beside `useQuery` and `useSuspenseQuery`,
 * rendered through `renderToHtml` with `apollo()`, streamed and buffered.
 */
const graphql = graphqlServerForTests();

function ReadStamp({ queryRef }: { queryRef: QueryRef<{ stamp: number }> }): ReactNode {
  const { data } = useReadQuery(queryRef);
  return <p id="read">stamp {data.stamp}</p>;
}

/** useBackgroundQuery starts the fetch; useReadQuery below suspends until it arrives. */
function Background(): ReactNode {
  const [queryRef] = useBackgroundQuery(STAMP);
  return (
    <Suspense fallback={<p id="read">waiting</p>}>
      <ReadStamp queryRef={queryRef} />
    </Suspense>
  );
}

/** `createQueryPreloader` with the request's client, once per render of the page. */
function Preloaded(): ReactNode {
  const client = useApolloClient();
  const [queryRef] = useState(() => createQueryPreloader(client)(STAMP));
  return (
    <Suspense fallback={<p id="read">waiting</p>}>
      <ReadStamp queryRef={queryRef} />
    </Suspense>
  );
}

/** useLoadableQuery loads on a user action only: nothing is loaded on the server. */
function Loadable(): ReactNode {
  const [, queryRef] = useLoadableQuery(STAMP);
  return (
    <Suspense fallback={<p id="read">waiting</p>}>
      {queryRef ? <ReadStamp queryRef={queryRef} /> : <p id="read">not loaded</p>}
    </Suspense>
  );
}

const PRODUCT_FIELDS: TypedDocumentNode<{ name: string; price: number }> = gql`
  fragment ProductFields on Product {
    name
    price
  }
`;

function ProductCard({ id }: { id: string }): ReactNode {
  const { data, complete } = useFragment({
    fragment: PRODUCT_FIELDS,
    from: { __typename: 'Product', id },
  });
  return <li id={`product-${id}`}>{complete ? `${data.name} ${data.price}` : 'incomplete'}</li>;
}

/** useFragment reads what the parent's query put in the cache. */
function Fragments(): ReactNode {
  const { data } = useQuery(PRODUCTS, { variables: { first: 2 } });
  return (
    <ul>
      {data?.products.map((p) => (
        <ProductCard key={p.id} id={p.id} />
      ))}
    </ul>
  );
}

describe.each(['stream', 'buffer'] as const)('Apollo hooks on the server (%s)', (mode) => {
  it('useBackgroundQuery + useReadQuery: fetched on the server, read with its data', async () => {
    const out = await render(graphql.server.url, <Background />, { mode });
    // streamed, the fallback comes first and the content follows in the same response
    expect(out.html).toContain('<p id="read">stamp <!-- -->1</p>');
    expect(graphql.server.log.operations).toEqual(['Stamp']);
    if (mode === 'stream') {
      expect(streamedChunks(out.html).flatMap((c) => c.w ?? [])).toHaveLength(1);
    }
  });

  it('preloadQuery (createQueryPreloader): fetched on the server, read with its data', async () => {
    const out = await render(graphql.server.url, <Preloaded />, { mode });
    // streamed, the fallback comes first and the content follows in the same response
    expect(out.html).toContain('<p id="read">stamp <!-- -->1</p>');
    expect(graphql.server.log.operations).toEqual(['Stamp']);
  });

  it('useLoadableQuery: nothing loaded on the server, no request', async () => {
    const out = await render(graphql.server.url, <Loadable />, { mode });
    expect(textById(out.html, 'read')).toBe('not loaded');
    expect(graphql.server.log.operations).toEqual([]);
    expect(out.errors).toEqual([]);
  });

  it("useFragment: reads the parent query's entities from the cache", async () => {
    const out = await render(graphql.server.url, <Fragments />, { mode });
    expect(textById(out.html, 'product-p1')).toMatch(/^\S+.* \d+$/);
    expect(textById(out.html, 'product-p1')).not.toBe('incomplete');
    expect(textById(out.html, 'product-p2')).not.toBe('incomplete');
    expect(graphql.server.log.operations).toEqual(['Products']);
  });
});
