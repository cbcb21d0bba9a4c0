import { createHook } from 'node:async_hooks';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { SchemaLink } from '@apollo/client/link/schema';
import { ApolloProvider } from '@apollo/client/react';
import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { renderToString } from 'react-dom/server';
import { prerenderToNodeStream } from 'react-dom/static';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServerRecord } from '../src/client/server-record';
import { apollo, forwardHeaders, KilnApolloError } from '../src/index';
import { KilnApolloProvider } from '../src/shared/provider';
import { Errors, Mixed, Policies, Shop, SuspenseShop } from './fixtures/app';
import {
  createTestSchema,
  startGraphQLServer,
  type TestData,
  type TestGraphQLServer,
} from './fixtures/graphql-server';
import { bufferedStateOf, streamedChunks } from './fixtures/lifecycle';
import { countingBrowserClient, httpClient, render } from './fixtures/render';

let gql: TestGraphQLServer;

beforeAll(async () => {
  gql = await startGraphQLServer();
});
afterAll(async () => {
  await gql.close();
});
beforeEach(() => {
  gql.reset();
});

/** The text of the element with `id`, from a parsed document. */
function textById(html: string, id: string): string | undefined {
  const doc = parseDocument(html);
  for (const tag of ['p', 'li', 'h1']) {
    const found = findAll(doc, tag).find((el) => attr(el, 'id') === id);
    if (found) return textOf(found);
  }
  return undefined;
}

/** Every `<li>` text inside `<ul class="reviews">`. */
function reviewTexts(html: string): string[] {
  const doc = parseDocument(html);
  return findAll(doc, 'ul')
    .filter((ul) => attr(ul, 'class') === 'reviews')
    .flatMap((ul) => findAll(ul, 'li').map(textOf));
}

/**
 * Records the timers created by Apollo Client, React or this package (by the stack that
 * created them) and still alive: neither fired nor cleared.
 */
function trackTimers(): { live(): string[]; stop(): void } {
  const live = new Map<number, string>();
  const ours = /@apollo[+/]client|packages\/apollo\/src|react-dom/;
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const stack = new Error().stack ?? '';
      if (ours.test(stack)) live.set(id, stack);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { live: () => [...live.values()], stop: () => hook.disable() };
}

describe('useQuery in one pass', () => {
  it.each(['stream', 'buffer'] as const)(
    'renders a depth-3 waterfall in one pass with one operation per query (%s)',
    async (mode) => {
      const out = await render(gql.url, <Shop />, { mode });
      expect(out.status).toBe(200);
      expect(out.errors).toEqual([]);
      expect(out.apollo.passes).toBe(1);
      expect(out.apollo.operations).toBe(6);
      expect(out.apollo.waterfallDepth).toBe(3);
      expect(gql.log.operations.sort()).toEqual(
        ['Products', 'Reviews', 'Reviews', 'Reviews', 'Reviews', 'Viewer'].sort(),
      );
      expect(out.html).not.toContain('loading');
      expect(textById(out.html, 'greeting')).toBe('Hello, Guest');
      expect(reviewTexts(out.html)).toHaveLength(8);
      expect(reviewTexts(out.html)).toContain('5: Review 2 of p4');
    },
  );

  it('renders the same HTML as the prerenderStatic fallback, which takes n + 2 passes', async () => {
    const data: TestData = { stamp: 7, productCount: 5, reviewDelayMs: 0 };
    const schema = createTestSchema(data);
    const inProcess = (strategy: 'suspend' | 'prerender') =>
      apollo({
        strategy,
        makeClient: (ctx) =>
          new ApolloClient({
            ssrMode: true,
            cache: new InMemoryCache(),
            link: new SchemaLink({ schema, context: { req: { headers: forwardHeaders(ctx) } } }),
          }),
      });
    const one = await render('', <Shop />, { mode: 'buffer', plugin: inProcess('suspend') });
    const fallback = await render('', <Shop />, { mode: 'buffer', plugin: inProcess('prerender') });
    expect(one.apollo.passes).toBe(1);
    expect(fallback.apollo.passes).toBe(5);
    expect(one.apollo.operations).toBe(7);
    expect(fallback.apollo.operations).toBe(7);
    const body = (html: string) => /<body>[\s\S]*?<script/.exec(html)?.[0];
    expect(body(one.html)).toBeDefined();
    expect(body(one.html)).toBe(body(fallback.html));
  });

  it('follows Apollo for skip, ssr: false, cache-only and no-cache', async () => {
    const out = await render(gql.url, <Policies />, { mode: 'buffer' });
    expect(textById(out.html, 'normal')).toBe('ready:data');
    expect(textById(out.html, 'skipped')).toBe('ready:none');
    expect(textById(out.html, 'ssr-false')).toBe('loading:none');
    expect(textById(out.html, 'cache-only')).toBe('ready:none');
    expect(textById(out.html, 'no-cache')).toBe('loading:none');
    expect(gql.log.operations).toEqual(['Stamp']);
  });
});

describe('suspense hooks and streaming', () => {
  it('streams each result before the boundary that shows it', async () => {
    gql.data.reviewDelayMs = 40;
    const out = await render(gql.url, <SuspenseShop />, { mode: 'stream' });
    expect(out.errors).toEqual([]);
    expect(out.apollo.passes).toBe(1);
    expect(out.apollo.operations).toBe(6);
    expect(out.diagnostics.batches).toBeGreaterThan(1);
    for (const id of ['p1', 'p2', 'p3', 'p4']) {
      const data = out.html.indexOf(`Review 2 of ${id}`);
      const markup = out.html.indexOf(`<li>5<!-- -->: <!-- -->Review 2 of ${id}`);
      expect(markup).toBeGreaterThan(-1);
      expect(data).toBeLessThan(markup);
    }
    const writes = streamedChunks(out.html).flatMap((c) => c.w ?? []);
    expect(writes).toHaveLength(6);
    expect(out.apollo.bytes).toBeGreaterThan(0);
    expect(out.html).not.toContain('data-kiln-state="apollo"');
  });

  it('renders a mixed tree (useQuery, suspense hooks, background query) in one pass', async () => {
    const out = await render(gql.url, <Mixed slowMs={20} />, { mode: 'buffer' });
    expect(out.errors).toEqual([]);
    expect(out.apollo.passes).toBe(1);
    expect(out.apollo.operations).toBe(8);
    expect(out.html).not.toContain('loading');
    expect(textById(out.html, 'stamp')).toBe('stamp 1');
    expect(textById(out.html, 'slow')).toBe('waited 20');
    expect(reviewTexts(out.html)).toHaveLength(8);
    const state = bufferedStateOf(out.html);
    expect(Object.keys((state.cache as Record<string, unknown>).ROOT_QUERY as object)).toContain(
      'slow({"ms":20})',
    );
  });

  it('puts the final cache in a buffered page, from which the client renders the same HTML without a request', async () => {
    const out = await render(gql.url, <Shop />, { mode: 'buffer', cookie: 'user=Ada' });
    const state = bufferedStateOf(out.html);
    const browser = countingBrowserClient();
    // the browser half: the cache, then the results the server's hooks read as fetched
    new ServerRecord().applyBuffered(state, browser.client);
    const clientHtml = renderToString(
      <KilnApolloProvider client={browser.client} wrappers={{}}>
        <Shop />
      </KilnApolloProvider>,
    );
    expect(browser.requests()).toBe(0);
    const body = /<body>([\s\S]*?)<script/.exec(out.html)?.[1];
    expect(body).toBe(clientHtml);
    browser.client.stop();
  });
});

describe('per visitor, per request', () => {
  it('forwards the cookie so each visitor gets their own HTML', async () => {
    const [ada, bob] = await Promise.all([
      render(gql.url, <Shop />, { cookie: 'user=Ada' }),
      render(gql.url, <Shop />, { cookie: 'user=Bob' }),
    ]);
    expect(textById(ada.html, 'greeting')).toBe('Hello, Ada');
    expect(textById(bob.html, 'greeting')).toBe('Hello, Bob');
    expect(gql.log.cookies.filter((c) => c === 'user=Ada')).toHaveLength(6);
    expect(gql.log.cookies.filter((c) => c === 'user=Bob')).toHaveLength(6);
  });

  it('keeps concurrent requests isolated', async () => {
    gql.data.reviewDelayMs = 20;
    const names = ['Ada', 'Bob', 'Cy', 'Di', 'Eve', 'Flo'];
    const pages = await Promise.all(
      names.map((name, i) =>
        render(gql.url, i % 2 ? <SuspenseShop /> : <Shop />, {
          cookie: `user=${name}`,
          mode: i % 3 ? 'stream' : 'buffer',
        }),
      ),
    );
    pages.forEach((page, i) => {
      expect(textById(page.html, 'greeting')).toBe(`Hello, ${names[i]}`);
      for (const other of names.filter((n) => n !== names[i])) {
        expect(page.html).not.toContain(`viewer-${other}`);
      }
    });
  });

  it('fetches fresh data for every request', async () => {
    const first = await render(gql.url, <Shop />);
    gql.data.stamp = 50;
    gql.data.productCount = 2;
    const second = await render(gql.url, <Shop />);
    const titles = (html: string) => findAll(parseDocument(html), 'h2').map(textOf);
    expect(titles(first.html)).toEqual([
      'Product 1 (101)',
      'Product 2 (201)',
      'Product 3 (301)',
      'Product 4 (401)',
    ]);
    expect(titles(second.html)).toEqual(['Product 1 (150)', 'Product 2 (250)']);
    expect(reviewTexts(first.html)).toHaveLength(8);
    expect(reviewTexts(second.html)).toHaveLength(4);
  });

  it('refuses a client shared by two requests', async () => {
    const shared = httpClient(gql.url);
    const plugin = apollo({ client: shared });
    gql.data.reviewDelayMs = 30;
    const [a, b] = await Promise.all([
      render(gql.url, <Shop />, { plugin, mode: 'buffer' }),
      render(gql.url, <Shop />, { plugin, mode: 'buffer' }),
    ]);
    // core wraps what a plugin's setup throws; the cause is the plugin's own error
    const causes = (r: { errors: { error: unknown }[] }) =>
      r.errors.map((e) => (e.error as Error).cause);
    const refused = [...causes(a), ...causes(b)];
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(KilnApolloError);
    expect((refused[0] as KilnApolloError).code).toBe('KILN_APOLLO_CLIENT_SHARED');
    expect((refused[0] as Error).message).toMatch(/two requests at once/);
    expect([a.status, b.status].sort()).toEqual([200, 500]);
    const later = await render(gql.url, <Shop />, { plugin, mode: 'buffer' });
    expect(later.status).toBe(500);
    expect((causes(later)[0] as KilnApolloError).message).toMatch(/previous request/);
  });

  it('refuses one InMemoryCache shared by the clients of two requests', async () => {
    const shared = new InMemoryCache();
    const plugin = apollo({
      makeClient: () =>
        new ApolloClient({ ssrMode: true, cache: shared, link: new HttpLink({ uri: gql.url }) }),
    });
    gql.data.reviewDelayMs = 30;
    const [a, b] = await Promise.all([
      render(gql.url, <Shop />, { plugin, mode: 'buffer' }),
      render(gql.url, <Shop />, { plugin, mode: 'buffer' }),
    ]);
    const causes = (r: { errors: { error: unknown }[] }) =>
      r.errors.map((e) => (e.error as Error).cause);
    const refused = [...causes(a), ...causes(b)];
    expect(refused).toHaveLength(1);
    expect((refused[0] as KilnApolloError).code).toBe('KILN_APOLLO_CLIENT_SHARED');
    expect((refused[0] as Error).message).toMatch(/share one InMemoryCache at once/);
    expect([a.status, b.status].sort()).toEqual([200, 500]);
    const later = await render(gql.url, <Shop />, { plugin, mode: 'buffer' });
    expect(later.status).toBe(500);
    expect((causes(later)[0] as KilnApolloError).message).toMatch(/InMemoryCache already served/);
  });

  it('forwards only the chosen headers that the request has', () => {
    const headers = new Headers({ cookie: 'user=Ada', 'Accept-Language': 'fr', 'x-other': '1' });
    expect(forwardHeaders(headers)).toEqual({ cookie: 'user=Ada', 'accept-language': 'fr' });
    expect(forwardHeaders(headers, ['X-Other', 'authorization'])).toEqual({ 'x-other': '1' });
  });

  it('rejects options without exactly one client source', () => {
    expect(() => apollo({})).toThrow(KilnApolloError);
    expect(() => apollo({ client: httpClient(gql.url), makeClient: () => httpClient('') })).toThrow(
      /exactly one/,
    );
    expect(() => apollo({ client: httpClient(gql.url), key: 'a-b' })).toThrow(/not valid/);
  });
});

describe('errors and abort', () => {
  it.each(['stream', 'buffer'] as const)(
    'renders GraphQL errors and partial data as Apollo does, reports them and sends them to the browser (%s)',
    async (mode) => {
      const out = await render(gql.url, <Errors />, { mode });
      expect(textById(out.html, 'broken')).toBe('error: broken field');
      expect(textById(out.html, 'partial')).toBe('ok=fine bad=null error=bad field');
      expect(textById(out.html, 'suspense-partial')).toBe('ok=fine bad=null error=bad field');
      const messages = out.errors.map((e) => (e.error as Error).message).sort();
      expect(messages).toEqual(['bad field', 'broken field']);
      expect(out.errors.every((e) => e.info.phase === 'plugin' && e.info.plugin === 'apollo')).toBe(
        true,
      );
      const sent =
        mode === 'buffer'
          ? (bufferedStateOf(out.html).e ?? [])
          : streamedChunks(out.html).flatMap((c) => c.e ?? []);
      expect(sent).toHaveLength(2);
      expect(out.apollo.errors).toBe(2);
    },
  );

  it('cancels GraphQL requests in flight when the render aborts', async () => {
    const controller = new AbortController();
    const pending = render(gql.url, <Mixed slowMs={5_000} />, {
      mode: 'stream',
      signal: controller.signal,
    });
    await expect.poll(() => gql.log.operations.includes('Slow')).toBe(true);
    controller.abort(new Error('visitor left'));
    const out = await pending;
    await expect
      .poll(() => gql.log.completed + gql.log.aborted.length, { timeout: 3_000 })
      .toBe(gql.log.operations.length);
    expect(gql.log.aborted).toContain('Slow');
    expect(out.html).not.toContain('waited');
  });

  it('leaves no timers behind, also after aborts and errors', async () => {
    const tracker = trackTimers();
    try {
      for (let i = 0; i < 3; i++) {
        await render(gql.url, <Mixed slowMs={5} />, { mode: i % 2 ? 'stream' : 'buffer' });
        await render(gql.url, <SuspenseShop />);
        await render(gql.url, <Errors />);
      }
      await render(gql.url, <Mixed slowMs={5_000} />, { timeoutMs: 100 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(tracker.live()).toEqual([]);
    } finally {
      tracker.stop();
    }
  });

  it('(control) a plain render of the suspense page leaves Apollo timers behind', async () => {
    const tracker = trackTimers();
    const client = httpClient(gql.url);
    try {
      await prerenderToNodeStream(
        <ApolloProvider client={client}>
          <SuspenseShop />
        </ApolloProvider>,
      );
      client.stop();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(tracker.live().length).toBeGreaterThanOrEqual(6);
    } finally {
      tracker.stop();
    }
  });
});
