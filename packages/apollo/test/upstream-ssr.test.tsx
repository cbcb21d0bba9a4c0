/**
 * Behavioural cases of Apollo Client's own server-rendering tests, ported to Kiln: each case is
 * rendered through `renderToHtml` with `apollo()`, streamed and buffered, against a real
 * GraphQL server (graphql-yoga) over loopback instead of `MockLink`.
 *
 * Upstream: apollographql/apollo-client, commit 54084bc22e92651cf153d03d0370b8dff3d1163f,
 * - src/react/ssr/__tests__/useQuery.test.tsx (all 10 cases, below)
 * - src/react/ssr/__tests__/useReactiveVar.test.tsx (its one case)
 * - src/react/ssr/__tests__/useQueryEndToEnd.test.tsx (its one case, server half; the browser
 *   half is covered by hydration.test.tsx, which hydrates in Chromium)
 *
 * Differences in what is asserted, by design:
 * - Upstream counts renders of `renderToStringWithData` (one whole-tree pass per waterfall
 *   level). Kiln renders the tree once; where upstream checks a render count to prove that a
 *   component was not rendered again, the same is checked here.
 * - "waterfalls by rerendering the tree multiple times" runs upstream once per render function
 *   of `prerenderStatic` (`renderToString`, `prerender`, ...): that option exists only in
 *   `prerenderStatic` (not applicable); the waterfall itself is rendered here in one pass.
 * - The cache-only case writes a server field instead of an `@client` field: Apollo 4 needs
 *   `LocalState` for `@client`, which `MockedProvider` configures; the behaviour checked (data
 *   written to the cache during the render is read by a `cache-only` query) is the same.
 * - src/react/ssr/__tests__/getDataFromTree.test.tsx (all 3 cases; `getDataFromTree(app,
 *   { client })`'s root context is Kiln's `apollo({ client })`)
 * - src/react/ssr/__tests__/prerenderStatic.test.tsx: its "cases that should skip SSR" (10
 *   cases, below); its other cases test `prerenderStatic`'s own options and are listed as not
 *   applicable, with the reason, in docs/apollo.md.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApolloClient,
  CombinedGraphQLErrors,
  gql,
  HttpLink,
  InMemoryCache,
  makeVar,
  NetworkStatus,
  type TypedDocumentNode,
} from '@apollo/client';
import {
  getApolloContext,
  skipToken,
  useApolloClient,
  useQuery,
  useReactiveVar,
} from '@apollo/client/react';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import type { ReactNode } from 'react';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apollo } from '../src/index';
import { render } from './fixtures/render';

const CAR_RESULT_DATA = {
  cars: [{ make: 'Audi', model: 'RS8', vin: 'DOLLADOLLABILL', __typename: 'Car' }],
};
const CAR_QUERY: TypedDocumentNode<typeof CAR_RESULT_DATA, { foo?: string; bar?: number }> = gql`
  query Cars($foo: String, $bar: Int) {
    cars(foo: $foo, bar: $bar) {
      make
      model
      vin
    }
  }
`;
const HELLO: TypedDocumentNode<{ hello: string }> = gql`
  query Hello {
    hello
  }
`;
const WHOAMI: TypedDocumentNode<{ whoami: { name: string } }> = gql`
  query Whoami {
    whoami {
      name
    }
  }
`;
const TIME: TypedDocumentNode<{ currentTime: string }> = gql`
  query Time {
    currentTime
  }
`;
const SEARCH: TypedDocumentNode<{
  getSearchResults: { locale: string; pagination: { pageLimit: number } };
}> = gql`
  query GetSearchResults {
    getSearchResults {
      locale
      pagination {
        pageLimit
      }
    }
  }
`;

let server: Server;
let url: string;
/** Operation names the GraphQL server received, in order. */
const received: string[] = [];

beforeAll(async () => {
  const yoga = createYoga({
    maskedErrors: false,
    schema: createSchema({
      typeDefs: /* GraphQL */ `
        type Car { make: String!, model: String!, vin: String! }
        type Who { name: String! }
        type Pagination { pageLimit: Int! }
        type Search { locale: String!, pagination: Pagination! }
        type Query {
          cars(foo: String, bar: Int): [Car!]!
          hello: String!
          whoami: Who!
          currentTime: String!
          getSearchResults: Search
          currentUser: User
          allPeople: People
        }
        type User { firstName: String! }
        type Person { name: String! }
        type People { people: [Person!] }
      `,
      resolvers: {
        Query: {
          cars: () => CAR_RESULT_DATA.cars,
          hello: () => 'world',
          whoami: () => ({ name: 'Apollo' }),
          currentTime: () => '2025-03-26T14:40:53.118Z',
          getSearchResults: () => null,
          currentUser: async () => {
            await new Promise((resolve) => setTimeout(resolve, 50));
            return { firstName: 'James' };
          },
          allPeople: () => ({}),
        },
        People: {
          people: () => {
            throw new GraphQLError('this is an error');
          },
        },
      },
    }),
    logging: false,
    plugins: [
      {
        onParams({ params }) {
          received.push(params.operationName ?? '');
        },
      },
    ],
  });
  server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
/** What the components of the current case saw; reset before each case. */
const seen = {
  renders: 0,
  results: [] as unknown[],
};

beforeEach(() => {
  received.length = 0;
  seen.renders = 0;
  seen.results = [];
});

/** The text inside `<body>`, without React's text separators and Kiln's scripts. */
function body(html: string): string {
  const inner = html.slice(html.indexOf('<body>') + 6, html.indexOf('</body>'));
  return inner.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<!-- -->/g, '');
}

const modes = ['stream', 'buffer'] as const;

function CarView({ data }: { data: typeof CAR_RESULT_DATA }): ReactNode {
  const { make, model, vin } = data.cars[0]!;
  return (
    <div>
      {make}, {model}, {vin}
    </div>
  );
}

function SupportsSsr(): ReactNode {
  const { loading, data } = useQuery(CAR_QUERY);
  return loading || !data ? null : <CarView data={data} />;
}

function UndefinedWhileLoading(): ReactNode {
  const { data, loading } = useQuery(CAR_QUERY);
  if (loading) seen.results.push(data);
  return null;
}

function SsrFalse(): ReactNode {
  const { data, loading } = useQuery(CAR_QUERY, { ssr: false });
  seen.renders += 1;
  seen.results.push(loading);
  return loading || !data ? null : <div>{data.cars[0]!.make}</div>;
}

function SsrFalseSkip(): ReactNode {
  const { data, loading } = useQuery(CAR_QUERY, { ssr: false, skip: true });
  seen.renders += 1;
  seen.results.push({ loading, data });
  return null;
}

function SsrFalseOnce(): ReactNode {
  const { data, loading } = useQuery(CAR_QUERY, { ssr: false });
  if (seen.renders > 0) throw new Error('Duplicate render');
  seen.renders += 1;
  seen.results.push({ loading, data });
  return null;
}

function Skip(): ReactNode {
  const { loading, networkStatus, data } = useQuery(CAR_QUERY, { skip: true });
  seen.renders += 1;
  seen.results.push({ loading, networkStatus, data });
  return null;
}

function NotSkipped(): ReactNode {
  const { loading, data } = useQuery(CAR_QUERY, { skip: false });
  return loading || !data ? null : <CarView data={data} />;
}

function SkipOneInstance(): ReactNode {
  const { loading, data } = useQuery(CAR_QUERY, { skip: true });
  seen.renders += 1;
  seen.results.push({ loading, data });
  return <NotSkipped />;
}

const SEARCH_DATA = {
  getSearchResults: {
    __typename: 'Search',
    locale: 'en-US',
    pagination: { __typename: 'Pagination', pageLimit: 3 },
  },
};

function CacheOnly(): ReactNode {
  useApolloClient().writeQuery({ query: SEARCH, data: SEARCH_DATA });
  const { loading, data } = useQuery(SEARCH, { fetchPolicy: 'cache-only' });
  seen.results.push({ loading, data });
  return loading || !data ? null : <div>{data.getSearchResults.pagination.pageLimit}</div>;
}

function WithVariables({ variables }: { variables: { foo: string; bar: number } }): ReactNode {
  const { loading, data } = useQuery(CAR_QUERY, { variables, ssr: true });
  return loading || !data ? null : <CarView data={data} />;
}

function WaterfallApp(): ReactNode {
  const { loading, data } = useQuery(HELLO);
  if (loading) return <p>Loading...</p>;
  return (
    <div>
      <p>Hello {data?.hello}!</p>
      <WaterfallParent />
    </div>
  );
}

function WaterfallParent(): ReactNode {
  const { loading, data } = useQuery(WHOAMI);
  if (loading) return <p>Loading...</p>;
  return (
    <>
      <p>My name is {data?.whoami.name}!</p>
      <WaterfallChild />
    </>
  );
}

function WaterfallChild(): ReactNode {
  const { loading, data } = useQuery(TIME);
  if (loading) return <p>Loading...</p>;
  return <p>Current time is {data?.currentTime}!</p>;
}

const counterVar = makeVar(0);

function ReactiveVar(): ReactNode {
  const count = useReactiveVar(counterVar);
  counterVar(1);
  counterVar(2);
  return <div>{count}</div>;
}

function SsrFalseSkipTarget(): ReactNode {
  const {
    loading,
    data = '<undefined>',
    networkStatus,
  } = useQuery(HELLO, {
    ssr: false,
    skip: true,
  });
  return <div id="target">{JSON.stringify({ loading, data, networkStatus })}</div>;
}

describe.each(modes)('Apollo useQuery SSR cases through Kiln (%s)', (mode) => {
  it('should support SSR', async () => {
    const out = await render(url, <SupportsSsr />, { mode });
    expect(body(out.html)).toBe('<div>Audi, RS8, DOLLADOLLABILL</div>');
  });

  it('should initialize data as `undefined` when loading', async () => {
    await render(url, <UndefinedWhileLoading />, { mode });
    // a component sees loading only on the discarded first run of a component whose query is
    // missing (docs/apollo.md); data is undefined there, as upstream
    expect(seen.results.every((d) => d === undefined)).toBe(true);
  });

  it('should skip SSR tree rendering and return a loading state if `ssr` option is `false`', async () => {
    const out = await render(url, <SsrFalse />, { mode });
    expect(seen.renders).toBe(1);
    expect(seen.results).toEqual([true]);
    expect(body(out.html)).toBe('');
    expect(received).toEqual([]);
  });

  it('should skip SSR tree rendering and not return a loading state if `ssr` is `false` and `skip` is `true`', async () => {
    const out = await render(url, <SsrFalseSkip />, { mode });
    expect(seen.renders).toBe(1);
    expect(seen.results).toEqual([{ loading: false, data: undefined }]);
    expect(body(out.html)).toBe('');
  });

  it('should skip both SSR tree rendering and SSR component rendering if `ssr` is `false` and `ssrMode` is `true`', async () => {
    // the request's client is created with ssrMode: true (fixtures/render.tsx)
    const out = await render(url, <SsrFalseOnce />, { mode });
    expect(out.errors).toEqual([]);
    expect(seen.renders).toBe(1);
    expect(seen.results).toEqual([{ loading: true, data: undefined }]);
    expect(body(out.html)).toBe('');
  });

  it('should skip SSR tree rendering if `skip` option is `true`', async () => {
    const out = await render(url, <Skip />, { mode });
    expect(seen.renders).toBe(1);
    expect(seen.results).toEqual([{ loading: false, networkStatus: 7, data: undefined }]);
    expect(body(out.html)).toBe('');
  });

  it('should render SSR tree rendering if `skip` option is `true` for only one instance of the query', async () => {
    const out = await render(url, <SkipOneInstance />, { mode });
    // upstream renders the tree twice (4 renders); Kiln renders the skipping parent once
    expect(seen.renders).toBe(1);
    expect(seen.results).toEqual([{ loading: false, data: undefined }]);
    expect(body(out.html)).toBe('<div>Audi, RS8, DOLLADOLLABILL</div>');
    expect(received).toEqual(['Cars']);
  });

  it('should return data written previously to cache during SSR pass if using cache-only fetchPolicy', async () => {
    const out = await render(url, <CacheOnly />, { mode });
    expect(seen.results[0]).toEqual({ loading: false, data: SEARCH_DATA });
    expect(body(out.html)).toBe('<div>3</div>');
    expect(received).toEqual([]);
  });

  it('should deduplicate `variables` with identical content, but different order', async () => {
    const out = await render(
      url,
      <>
        <WithVariables variables={{ foo: 'a', bar: 1 }} />
        <WithVariables variables={{ bar: 1, foo: 'a' }} />
      </>,
      { mode },
    );
    expect(body(out.html)).toBe(
      '<div>Audi, RS8, DOLLADOLLABILL</div><div>Audi, RS8, DOLLADOLLABILL</div>',
    );
    // upstream's mock answers once (maxUsageCount: 1): one request
    expect(received).toEqual(['Cars']);
  });

  it('should render waterfalls (upstream: by rerendering the tree; Kiln: in one pass)', async () => {
    const out = await render(url, <WaterfallApp />, { mode });
    expect(out.html).toMatch(/world/);
    expect(out.html).toMatch(/Apollo/);
    expect(out.html).toMatch(/2025-03-26T14:40:53.118Z/);
    expect(out.html).not.toMatch(/Loading\.\.\./);
    expect(out.apollo.passes).toBe(1);
  });

  it('useReactiveVar: does not cause warnings (upstream useReactiveVar.test.tsx)', async () => {
    counterVar(0);
    const out = await render(url, <ReactiveVar />, { mode });
    expect(body(out.html)).toBe('<div>0</div>');
    expect(out.errors).toEqual([]);
  });

  it('ssr: false with skip: true renders the skipped result and sends nothing (upstream useQueryEndToEnd.test.tsx, server half)', async () => {
    const out = await render(url, <SsrFalseSkipTarget />, { mode });
    expect(body(out.html)).toBe(
      '<div id="target">{&quot;loading&quot;:false,&quot;data&quot;:&quot;&lt;undefined&gt;&quot;,&quot;networkStatus&quot;:7}</div>',
    );
    expect(received).toEqual([]);
  });
});

const ApolloContext = getApolloContext();

function ClientAwarenessName(): ReactNode {
  return (
    <ApolloContext.Consumer>
      {(context) => (
        <div>
          {
            (
              context?.client as unknown as {
                queryManager: { clientOptions: { clientAwareness?: { name?: string } } };
              }
            )?.queryManager.clientOptions.clientAwareness?.name
          }
        </div>
      )}
    </ApolloContext.Consumer>
  );
}

const CURRENT_USER: TypedDocumentNode<{ currentUser?: { firstName: string } }> = gql`
  query CurrentUser {
    currentUser {
      firstName
    }
  }
`;

function CurrentUser(): ReactNode {
  const { data, loading } = useQuery(CURRENT_USER);
  return <div>{loading || !data ? 'loading' : data.currentUser!.firstName}</div>;
}

const PEOPLE: TypedDocumentNode<{ allPeople: { people: { name: string }[] | null } }> = gql`
  query People {
    allPeople {
      people {
        name
      }
    }
  }
`;

function People(): ReactNode {
  const { data, loading, error } = useQuery(PEOPLE, { errorPolicy: 'all' });
  if (!loading) seen.results.push({ data, error });
  return null;
}

describe.each(modes)('Apollo getDataFromTree cases through Kiln (%s)', (mode) => {
  it('should support passing a root context', async () => {
    const client = new ApolloClient({
      ssrMode: true,
      clientAwareness: { name: 'oyez' },
      cache: new InMemoryCache(),
      link: new HttpLink({ uri: url }),
    });
    const out = await render(url, <ClientAwarenessName />, { mode, plugin: apollo({ client }) });
    expect(body(out.html)).toBe('<div>oyez</div>');
  });

  it('should run through all of the queries that want SSR', async () => {
    const out = await render(url, <CurrentUser />, { mode });
    expect(body(out.html)).toBe('<div>James</div>');
  });

  it('should pass any GraphQL errors in props along with data during a SSR when errorPolicy="all"', async () => {
    await render(url, <People />, { mode });
    expect(seen.results.length).toBeGreaterThanOrEqual(1);
    for (const result of seen.results) {
      const { data, error } = result as { data: unknown; error: unknown };
      expect(data).toMatchObject({ allPeople: { people: null } });
      expect(CombinedGraphQLErrors.is(error)).toBe(true);
      expect((error as CombinedGraphQLErrors).data).toMatchObject({ allPeople: { people: null } });
      expect((error as CombinedGraphQLErrors).errors.map((e) => e.message)).toEqual([
        'this is an error',
      ]);
    }
  });
});

type SkipCaseOptions = useQuery.Options<{ hello: string }> | typeof skipToken;

function SkipCase({ options }: { options: SkipCaseOptions }): ReactNode {
  const result = useQuery(HELLO, options as never);
  return (
    <div id="result">
      {JSON.stringify({
        data: result.data || null,
        loading: result.loading,
        dataState: result.dataState,
        networkStatus: result.networkStatus,
      })}
    </div>
  );
}

const skipped = {
  data: null,
  loading: false,
  dataState: 'empty',
  networkStatus: NetworkStatus.ready,
};
const loading = {
  data: null,
  loading: true,
  dataState: 'empty',
  networkStatus: NetworkStatus.loading,
};
const skipCases: [string, SkipCaseOptions, typeof skipped][] = [
  ['skipToken', skipToken, skipped],
  ['skip: true', { skip: true }, skipped],
  ["fetchPolicy: 'no-cache'", { fetchPolicy: 'no-cache' }, loading],
  ["fetchPolicy: 'standby'", { fetchPolicy: 'standby' }, skipped],
  ['ssr: false', { ssr: false }, loading],
];

describe.each(modes)(
  'Apollo prerenderStatic "cases that should skip SSR" through Kiln (%s)',
  (mode) => {
    it.each(
      skipCases.flatMap(
        ([name, options, expected]) =>
          [
            [name, false, options, expected],
            [name, true, options, expected],
          ] as const,
      ),
    )('options: %s (cache populated: %s)', async (_, populate, options, expected) => {
      const client = new ApolloClient({
        ssrMode: true,
        cache: new InMemoryCache(),
        link: new HttpLink({ uri: url }),
      });
      if (populate) client.writeQuery({ query: HELLO, data: { hello: 'cached' } });
      const out = await render(url, <SkipCase options={options} />, {
        mode,
        plugin: apollo({ client }),
      });
      expect(body(out.html).replaceAll('&quot;', '"')).toContain(JSON.stringify(expected));
      expect(received).toEqual([]);
    });
  },
);
