import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import {
  buildCatalogue,
  contextFromCookieHeader,
  createSchema,
  fillCache,
  makeClient,
  PRODUCT_COUNT,
  REVIEWS_PER_PRODUCT,
  renderDataThenRender,
  renderFloor,
  renderHandRolled,
  renderSuspenseAllReady,
  shopPageProblems,
  snapshot,
  TRICKY_FRAGMENTS,
  viewerFor,
} from '../src/shop/index';

// The build of graphql the schema is made with (see src/shop/schema.ts).
const { execute, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
const schema = createSchema({ latencyMs: 0 });

describe('shop data', () => {
  it('is the same on every build, with every tricky text on the page', () => {
    const a = buildCatalogue();
    const b = buildCatalogue();
    expect(a.products).toEqual(b.products);
    expect(a.products).toHaveLength(PRODUCT_COUNT);
    expect([...a.reviews.values()].every((list) => list.length === REVIEWS_PER_PRODUCT)).toBe(true);
    const text = [...a.reviews.values()]
      .flat()
      .map((review) => review.body)
      .join('\n');
    for (const fragment of TRICKY_FRAGMENTS) expect(text).toContain(fragment);
    for (const needle of [
      '</script><script>',
      '<!--',
      '\u2028',
      '\u2029',
      'a < b',
      '&',
      '<b>',
      '😍',
    ]) {
      expect(
        text +
          [...a.reviews.values()]
            .flat()
            .map((r) => r.title)
            .join(''),
      ).toContain(needle);
    }
    expect(buildCatalogue(1).products).not.toEqual(a.products);
  });

  it('derives the viewer from the user cookie', () => {
    expect(viewerFor(undefined)).toBeNull();
    expect(viewerFor('')).toBeNull();
    expect(viewerFor('ada')).toEqual(viewerFor('ada'));
    expect(viewerFor('ada')?.name).toBe('Ada');
    expect(contextFromCookieHeader('a=1; user=ada%20l; b=2')).toEqual({ user: 'ada l' });
    expect(contextFromCookieHeader('a=1')).toEqual({});
  });
});

describe('shop schema', () => {
  it('answers in process with the visitor from the context', async () => {
    const document = parse(
      '{ viewer { name } products(first: 2, currency: EUR) { id price { formatted } } }',
    );
    const signedIn = await execute({ schema, document, contextValue: { user: 'ada' } });
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data).toMatchObject({ viewer: { name: 'Ada' } });
    const guest = await execute({ schema, document, contextValue: {} });
    expect(guest.data?.viewer).toBeNull();
    expect(guest.data?.products).toHaveLength(2);
  });

  it('is served by graphql-yoga with the latency per operation', async () => {
    const yoga = createYoga({
      schema: createSchema({ latencyMs: 30 }),
      context: ({ request }) => contextFromCookieHeader(request.headers.get('cookie')),
      logging: false,
    });
    const server = createServer(yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: 'user=grace' },
        body: JSON.stringify({
          query: '{ viewer { name } reviews(productId: "p001", first: 5) { body } }',
        }),
      });
      const body = (await response.json()) as {
        data: { viewer: { name: string }; reviews: { body: string }[] };
      };
      expect(performance.now() - started).toBeGreaterThanOrEqual(29);
      expect(body.data.viewer.name).toBe('Grace');
      expect(body.data.reviews).toHaveLength(5);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('shop page', () => {
  it('needs exactly 62 operations, fetched by fillCache', async () => {
    let operations = 0;
    const client = makeClient({ schema, user: 'ada', onOperation: () => operations++ });
    expect(await fillCache(client)).toBe(2 + PRODUCT_COUNT);
    expect(operations).toBe(2 + PRODUCT_COUNT);
  });

  it('renders the same markup from a restored cache as after fetching', async () => {
    const request = { schema, user: 'ada' };
    const data = await snapshot(request);
    let operations = 0;
    const floor = renderFloor({ ...request, onOperation: () => operations++ }, data);
    expect(operations).toBe(0);
    expect(await renderDataThenRender(request)).toBe(floor);
    expect(
      shopPageProblems(floor, { user: 'ada', state: false, document: false, styles: false }),
    ).toEqual([]);
  });

  it('is rendered correctly by the hand-rolled pipeline and React at all-ready, for both visitors', async () => {
    for (const user of ['ada', undefined]) {
      const handRolled = await renderHandRolled({ schema, user });
      expect(shopPageProblems(handRolled, { user })).toEqual([]);
      const suspense = await renderSuspenseAllReady({ schema, user });
      expect(shopPageProblems(suspense, { user })).toEqual([]);
    }
  });
});

describe('shopPageProblems', () => {
  it('finds what makes a page wrong', async () => {
    const page = await renderHandRolled({ schema, user: 'ada' });
    expect(shopPageProblems(page, { user: 'ada' })).toEqual([]);
    expect(shopPageProblems(page, {})).toContain('no guest greeting');
    expect(shopPageProblems(page, { user: 'bob' })).toContain('no greeting for Bob');

    const injected = page.replace(
      '</body>',
      '<div></script><script>alert("pwned")</script></div></body>',
    );
    expect(shopPageProblems(injected, { user: 'ada' }).join()).toMatch(/injected a <script>/);

    const unsafeState = page
      .replace(/\\u003C\/script\\u003E/g, '</scr"+"ipt>')
      .replace('<script>window', '<script>"<!--";window');
    expect(shopPageProblems(unsafeState, { user: 'ada' }).join()).toMatch(
      /<script> body contains <!--/,
    );

    const lineSeparator = page.replace('<script>window', '<script>"\u2028";window');
    expect(shopPageProblems(lineSeparator, { user: 'ada' }).join()).toMatch(/U\+2028/);

    const missingCard = page.replace(/data-product="p060"/g, '');
    expect(shopPageProblems(missingCard, { user: 'ada' })).toContain(
      '59 product cards, expected 60',
    );

    const unstyled = page.replace(/<style[^>]*>[\s\S]*?<\/style>/g, '');
    const problems = shopPageProblems(unstyled, { user: 'ada' });
    expect(problems).toContain('no critical CSS in <head>');
    expect(problems.join()).toMatch(/is used before any style defines it/);

    const stateless = page.replace(/<script>window[\s\S]*?<\/script>/, '');
    expect(shopPageProblems(stateless, { user: 'ada' })).toContain(
      'no state script with the reviews',
    );
  });
});
