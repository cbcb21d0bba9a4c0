import { useQuery, useSuspenseQuery } from '@apollo/client/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { PRODUCTS, SLOW, STAMP, VIEWER } from './fixtures/app';
import { graphqlServerForTests, textById } from './fixtures/lifecycle';
import { render } from './fixtures/render';

const graphql = graphqlServerForTests();

/** Three independent queries in one component, each result destructured at once. */
function Three(): ReactNode {
  const { data: stamp, loading: l1 } = useQuery(STAMP);
  const { data: viewer, loading: l2 } = useQuery(VIEWER);
  const { data: slow, loading: l3 } = useQuery(SLOW, { variables: { ms: 30 } });
  if (l1 || l2 || l3) return <p className="loading">loading</p>;
  return (
    <p id="three">
      {stamp?.stamp} {viewer?.viewer.name} {slow?.slow}
    </p>
  );
}

/** `useQuery` beside `useSuspenseQuery` in one component, then a child with its own query. */
function Mixed(): ReactNode {
  const { data: stamp } = useQuery(STAMP);
  const { data: viewer } = useSuspenseQuery(VIEWER);
  const { data: slow } = useQuery(SLOW, { variables: { ms: 20 } });
  return (
    <div>
      <p id="mixed">
        {stamp?.stamp} {viewer.viewer.name} {slow?.slow}
      </p>
      <Child first={viewer.viewer.pageSize} />
    </div>
  );
}

function Child({ first }: { first: number }): ReactNode {
  const { data, loading } = useQuery(PRODUCTS, { variables: { first } });
  return <p id="child">{loading ? 'loading' : data?.products.length}</p>;
}

describe('several queries in one component', () => {
  it.each(['stream', 'buffer'] as const)(
    'start together: one round trip, waterfall depth 1, one pass (%s)',
    async (mode) => {
      const out = await render(graphql.server.url, <Three />, { mode, cookie: 'user=Ada' });
      expect(textById(out.html, 'three')).toBe('1 Ada waited 30');
      expect(out.html).not.toContain('class="loading"');
      expect(out.apollo.operations).toBe(3);
      expect(out.apollo.waterfallDepth).toBe(1);
      expect(out.apollo.passes).toBe(1);
      // all three reached the server before the first answer
      expect(graphql.server.log.operations.slice(0, 3).sort()).toEqual(['Slow', 'Stamp', 'Viewer']);
    },
  );

  it.each(['stream', 'buffer'] as const)(
    'beside useSuspenseQuery, and a dependent child query after them (%s)',
    async (mode) => {
      const out = await render(graphql.server.url, <Mixed />, { mode, cookie: 'user=Ada' });
      expect(textById(out.html, 'mixed')).toBe('1 Ada waited 20');
      expect(textById(out.html, 'child')).toBe('4');
      expect(out.apollo.operations).toBe(4);
      // Stamp starts together with Viewer; useSuspenseQuery waits where it stands, as in
      // Apollo, so Slow starts once Viewer arrived (2), and the child needs Viewer's data (3)
      expect(out.apollo.waterfallDepth).toBe(3);
      expect(graphql.server.log.operations.slice(0, 2).sort()).toEqual(['Stamp', 'Viewer']);
      expect(out.errors).toEqual([]);
    },
  );
});
