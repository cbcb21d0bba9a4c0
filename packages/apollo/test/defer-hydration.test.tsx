import { type BrowserSession, type Listening, launchChromium } from '@kiln/test-utils';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apollo, forwardHeaders } from '../src/index';
import { deferClient } from './fixtures/defer-app';
import { DeferDocument } from './fixtures/defer-document';
import { type DeferServer, startDeferServer } from './fixtures/defer-server';
import { openRecordedPage, type Page, startSite, waitUntilSettled } from './fixtures/site';

let gql: DeferServer;
let site: Listening;
let chromium: BrowserSession;
/** Stops the last render opened with `?stop`. */
let stopRender = (): void => {};
const siteErrors: unknown[] = [];

beforeAll(async () => {
  gql = await startDeferServer();
  site = await startSite({
    entry: new URL('./fixtures/defer-browser-entry.tsx', import.meta.url),
    graphql: (req, res) => gql.handle(req, res),
    page: (path) => <DeferDocument path={path} />,
    plugin: (url, stop) => {
      // `?stop`: the test stops the render (what a timeout does, at a point no timer chooses)
      if (url.searchParams.has('stop')) stopRender = stop;
      return apollo({ makeClient: (ctx) => deferClient(gql.url, forwardHeaders(ctx)) });
    },
    errors: siteErrors,
  });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await site?.close();
  await gql?.close();
});

beforeEach(() => {
  gql.reset();
  siteErrors.length = 0;
});

/**
 * Opens `path` for visitor Ada with the deferred parts held at the GraphQL server, lets
 * `release` decide when they arrive, and returns what the browser did.
 */
async function visit(path: string, release: (page: Page) => Promise<void>) {
  const v = await openRecordedPage(chromium, site, { user: 'Ada' });
  const loaded = v.page.goto(`${site.url}${path}`, { waitUntil: 'load' });
  await release(v.page);
  await loaded;
  await waitUntilSettled(v.page);
  return v;
}

type Visit = Awaited<ReturnType<typeof visit>>;

/** The page hydrated as the server rendered it, with no request, error or loading state. */
async function expectHydratedAsRendered(v: Visit): Promise<void> {
  expect(v.consoleErrors).toEqual([]);
  expect(v.graphqlFromBrowser).toEqual([]);
  expect(await v.loadingSeen()).toEqual([]);
  expect(await v.page.textContent('#name')).toBe('Lamp p1 for Ada');
  expect(await v.page.textContent('#stock')).toBe('stock 3');
  await v.page.click('#counter');
  expect(await v.page.textContent('#counter')).toBe('clicked 1');
  expect(gql.operations).toEqual(['ProductPage']);
  expect(siteErrors).toEqual([]);
}

const openGates = (): void => {
  gql.open('reviews', 'Ada');
  gql.open('stock', 'Ada');
};

describe('@defer hydration in Chromium', () => {
  it('hydrates with no GraphQL request when the client starts before the deferred parts arrive', async () => {
    const v = await visit('/defer', async (page) => {
      // the shell is shown and the client plugin took the stream over; only then do the
      // deferred parts leave the GraphQL server
      await page.waitForSelector('#name');
      await page.waitForFunction(
        () => !Array.isArray((window as unknown as Record<string, unknown>).__kilnApollo_apollo),
      );
      expect(await page.locator('#reviews').count()).toBe(0);
      openGates();
    });
    try {
      await expectHydratedAsRendered(v);
      expect(await v.page.locator('#reviews li').allTextContents()).toEqual([
        'Review 1 of p1 for Ada',
        'Review 2 of p1 for Ada',
      ]);
    } finally {
      await v.close();
    }
  }, 60_000);

  it.each([
    ['/defer', 'stream'],
    ['/defer', 'buffer'],
    ['/defer-use-query', 'stream'],
    ['/defer-use-query', 'buffer'],
  ])(
    'hydrates %s (%s) with no GraphQL request and no loading state',
    async (path, mode) => {
      const v = await visit(`${path}?mode=${mode}`, async () => {
        await gql.waiting('reviews', 'Ada');
        openGates();
      });
      try {
        expect(v.consoleErrors).toEqual([]);
        expect(v.graphqlFromBrowser).toEqual([]);
        expect(await v.loadingSeen()).toEqual([]);
        expect(await v.page.textContent('#name')).toBe('Lamp p1 for Ada');
        expect(await v.page.textContent('#stock')).toBe('stock 3');
        await v.page.click('#counter');
        expect(await v.page.textContent('#counter')).toBe('clicked 1');
        expect(gql.operations).toEqual(['ProductPage']);
        expect(siteErrors).toEqual([]);
      } finally {
        await v.close();
      }
    },
    60_000,
  );

  it('after the server stopped waiting for the deferred parts, shows their fallbacks and fetches the query once after hydration', async () => {
    // The render is stopped once the browser shows the initial payload (the product's name)
    // and while the deferred parts wait at their gates. A timeout stops it the same way, at a
    // moment a busy machine would move: a 2 s timeout cut the initial payload too when it
    // took longer.
    const v = await visit('/defer?stop', async (page) => {
      await page.waitForSelector('#name');
      stopRender();
      // the render stopped and cancelled its request before any deferred part came
      await expect.poll(() => gql.aborted).toEqual(['ProductPage']);
      expect(await page.locator('.fallback').allTextContents()).toEqual([
        'loading reviews',
        'loading stock',
      ]);
      openGates();
    });
    try {
      // the browser fetched the query itself, once, and renders its result
      expect(v.graphqlFromBrowser).toHaveLength(1);
      expect(v.graphqlFromBrowser[0]).toContain('ProductPage');
      expect(gql.operations).toEqual(['ProductPage', 'ProductPage']);
      expect(await v.page.textContent('#name')).toBe('Lamp p1 for Ada');
      expect(await v.page.locator('#reviews li').allTextContents()).toEqual([
        'Review 1 of p1 for Ada',
        'Review 2 of p1 for Ada',
      ]);
      expect(await v.page.textContent('#stock')).toBe('stock 3');
      // React reports the two boundaries the server could not finish (error #419: switched to
      // client rendering); nothing else, no hydration mismatch
      const unfinished = v.consoleErrors.filter((e) => e.includes('React error #419'));
      expect(unfinished).toHaveLength(2);
      expect(v.consoleErrors.filter((e) => !unfinished.includes(e))).toEqual([]);
    } finally {
      await v.close();
    }
  }, 60_000);
});
