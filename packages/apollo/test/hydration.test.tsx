import { type BrowserSession, type Listening, launchChromium } from '@kiln/test-utils';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apollo, forwardHeaders } from '../src/index';
import { STAMP } from './fixtures/app';
import { Document } from './fixtures/document';
import { startGraphQLServer, type TestGraphQLServer } from './fixtures/graphql-server';
import { httpClient } from './fixtures/render';
import {
  type BrowserContext,
  openRecordedPage,
  type Page,
  type RecordedPage,
  startSite,
  waitUntilSettled,
} from './fixtures/site';

let gql: TestGraphQLServer;
let site: Listening;
let chromium: BrowserSession;
/** Errors `renderToHtml` reported while serving pages (the errors page reports two). */
const siteErrors: unknown[] = [];

beforeAll(async () => {
  gql = await startGraphQLServer();
  site = await startSite({
    entry: new URL('./fixtures/browser-entry.tsx', import.meta.url),
    graphql: (req, res) => gql.handle(req, res),
    page: (path) => <Document path={path} />,
    plugin: (url, stop) =>
      apollo({
        makeClient: (ctx) => {
          const client = httpClient(gql.url, forwardHeaders(ctx));
          // `?stop=stamped`: the render stops waiting the moment the stamp query's result is
          // in the server's cache, while the slow query is still out: what a timeout does, at
          // a point no timer chooses
          if (url.searchParams.get('stop') === 'stamped') {
            client.cache.watch({
              query: STAMP,
              optimistic: false,
              callback: (diff) => {
                // after the microtasks that hand the result to the hooks waiting for it
                if (diff.complete) setImmediate(stop);
              },
            });
          }
          return client;
        },
      }),
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

interface Visit extends RecordedPage {
  /** GraphQL `fetch` calls made by the page, counted in the page when they are made. */
  fetchesInPage(): Promise<string[]>;
  /** Loads `path` again in the same page, with fresh records. */
  goto(path: string): Promise<void>;
}

/**
 * Opens `path` with the records of {@link openRecordedPage}, plus the GraphQL `fetch` calls the
 * page makes, and waits until the page settled.
 */
async function visit(
  path: string,
  user?: string,
  prepareContext?: (context: BrowserContext) => Promise<void>,
  preparePage?: (page: Page) => Promise<void>,
): Promise<Visit> {
  const v = await openRecordedPage(chromium, site, {
    ...(user ? { user } : {}),
    ...(prepareContext ? { prepareContext } : {}),
    ...(preparePage ? { preparePage } : {}),
  });
  await v.page.addInitScript(() => {
    const fetches: string[] = [];
    (window as unknown as { __fetches: string[] }).__fetches = fetches;
    const original = window.fetch.bind(window);
    window.fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url.includes('/graphql')) fetches.push(String(init?.body ?? ''));
      return original(input, init);
    };
  });
  const goto = async (target: string): Promise<void> => {
    v.forget();
    await v.page.goto(`${site.url}${target}`, { waitUntil: 'load' });
    await waitUntilSettled(v.page);
  };
  await goto(path);
  return Object.assign(v, {
    goto,
    fetchesInPage: () =>
      v.page.evaluate(() => (window as unknown as { __fetches: string[] }).__fetches),
  });
}

describe('hydration in Chromium', () => {
  it.each([
    ['/shop', 'stream'],
    ['/shop', 'buffer'],
    ['/suspense', 'stream'],
    ['/mixed', 'stream'],
    ['/mixed', 'buffer'],
  ])(
    'hydrates %s (%s) with no GraphQL request, no console error, no loading state',
    async (path, mode) => {
      gql.data.reviewDelayMs = mode === 'stream' ? 150 : 0;
      const v = await visit(`${path}?mode=${mode}`, 'Ada');
      try {
        expect(v.consoleErrors).toEqual([]);
        expect(v.graphqlFromBrowser).toEqual([]);
        expect(await v.fetchesInPage()).toEqual([]);
        expect(await v.loadingSeen()).toEqual([]);
        expect(await v.page.textContent('#greeting')).toBe('Hello, Ada');
        expect(await v.page.locator('ul.reviews li').count()).toBe(8);
        await v.page.click('#counter');
        expect(await v.page.textContent('#counter')).toBe('clicked 1');
        expect(siteErrors).toEqual([]);
        if (path === '/mixed') {
          expect(await v.page.textContent('#stamp')).toBe('stamp 1');
          expect(await v.page.textContent('#slow')).toBe('waited 120');
        }
      } finally {
        await v.close();
      }
    },
    60_000,
  );

  it('hydrates every page with no request and no loading state on a CPU throttled 6x, 20 loads each', async () => {
    // Mobile Lighthouse throttles the CPU 4x; 6x makes late hydration of every boundary likely.
    // Nothing here depends on when a boundary hydrates: only on what the server sent.
    gql.data.reviewDelayMs = 40;
    const pages: [string, string][] = [
      ['/shop', 'stream'],
      ['/shop', 'buffer'],
      ['/suspense', 'stream'],
      ['/mixed', 'stream'],
      ['/mixed', 'buffer'],
    ];
    const loads = 20;
    const failures: string[] = [];
    for (const [path, mode] of pages) {
      // 20 loads of each page, shared between its modes, in one throttled tab per page and mode
      const runs = pages.filter(([p]) => p === path).length;
      const v = await visit(`${path}?mode=${mode}`, 'Ada', undefined, async (page) => {
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
      });
      try {
        for (let i = 0; i < Math.ceil(loads / runs); i++) {
          if (i > 0) await v.goto(`${path}?mode=${mode}`);
          const fetched = await v.fetchesInPage();
          const loading = await v.loadingSeen();
          if (
            fetched.length > 0 ||
            v.graphqlFromBrowser.length > 0 ||
            loading.length > 0 ||
            v.consoleErrors.length > 0
          ) {
            failures.push(
              `${path} ${mode} #${i}: ${JSON.stringify({ fetched, loading, errors: v.consoleErrors })}`,
            );
          }
        }
      } finally {
        await v.close();
      }
    }
    expect(failures).toEqual([]);
    expect(siteErrors).toEqual([]);
  }, 600_000);

  it('hydrates a streamed page whose results arrive after the client started', async () => {
    gql.data.reviewDelayMs = 1_500;
    const v = await visit('/suspense?mode=stream', undefined, async (context) => {
      await context.addInitScript(() => {
        // counts the chunks pushed before the client plugin takes the queue over
        const early = Object.assign([] as unknown[], {
          push(...items: unknown[]) {
            (window as unknown as { __early: number }).__early += items.length;
            return Array.prototype.push.apply(early, items);
          },
        });
        (window as unknown as { __early: number }).__early = 0;
        (window as unknown as { __kilnApollo_apollo: unknown[] }).__kilnApollo_apollo = early;
      });
    });
    try {
      expect(v.consoleErrors).toEqual([]);
      expect(v.graphqlFromBrowser).toEqual([]);
      expect(await v.fetchesInPage()).toEqual([]);
      expect(await v.loadingSeen()).toEqual([]);
      expect(await v.page.locator('ul.reviews li').count()).toBe(8);
      const { early, total } = await v.page.evaluate(() => ({
        early: (window as unknown as { __early: number }).__early,
        total: [...document.scripts].filter((s) => s.text.includes('__kilnApollo_apollo')).length,
      }));
      expect(early).toBeGreaterThanOrEqual(1);
      expect(total - early).toBeGreaterThanOrEqual(1);
    } finally {
      await v.close();
    }
  }, 60_000);

  it.each(['stream', 'buffer'])(
    'after the server stopped waiting for a query, shows its loading state and fetches it after hydration (%s)',
    async (mode) => {
      // The render is aborted once the stamp query has its result and while the slow one is
      // held back by the GraphQL server (a timeout stops it the same way, at a moment a busy
      // machine would move). The slow answers are released only after hydration.
      let release = (): void => {};
      gql.data.slowGate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const v = await visit(`/hang?mode=${mode}&stop=stamped`);
      try {
        // the server HTML shows the loading state of the query the abort cut off
        expect(new Set(await v.loadingSeen())).toEqual(new Set(['loading slow']));
        expect(await v.page.textContent('#hang-stamp')).toBe('stamp 1');
        release();
        await v.page.waitForFunction(
          () => document.querySelector('#slow-query')?.textContent === 'waited 1500',
        );
        expect(v.consoleErrors).toEqual([]);
        // the browser fetched the slow query once, and not the stamp the server had
        const fetched = await v.fetchesInPage();
        expect(fetched).toHaveLength(1);
        expect(fetched[0]).toContain('Slow');
        expect(await v.page.textContent('#hang-stamp')).toBe('stamp 1');
      } finally {
        release();
        await v.close();
      }
    },
    60_000,
  );

  it('shows a server error the same after hydration', async () => {
    const v = await visit('/errors?mode=stream');
    try {
      expect(v.consoleErrors).toEqual([]);
      expect(await v.page.textContent('#broken')).toBe('error: broken field');
      expect(await v.page.textContent('#partial')).toBe('ok=fine bad=null error=bad field');
      expect(await v.page.textContent('#suspense-partial')).toBe(
        'ok=fine bad=null error=bad field',
      );
      expect(await v.loadingSeen()).toEqual([]);
      // the query that failed on the server is retried once by the browser after hydration;
      // the partial result (errorPolicy: 'all') came with data and is not
      const fetched = await v.fetchesInPage();
      expect(fetched).toHaveLength(1);
      expect(fetched[0]).toContain('Broken');
    } finally {
      await v.close();
    }
  }, 60_000);
});
