/**
 * What the browser shows when a Suspense boundary fails on the server and again in the
 * browser's retry, with no error boundary in the app: a streamed page from a real server,
 * hydrated in Chromium with React's production build.
 */
import {
  type BrowserSession,
  bundleForBrowser,
  type Listening,
  launchChromium,
  listen,
} from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderToHtml } from '../src/index';
import { BoundaryErrorPage } from './fixtures/boundary-error-app';

let server: Listening;
let browser: BrowserSession;
const serverErrors: unknown[] = [];

beforeAll(async () => {
  const clientJs = await bundleForBrowser(
    new URL('./fixtures/boundary-error-client.tsx', import.meta.url),
    { mode: 'production' },
  );
  server = await listen(async (req, res) => {
    if (req.url === '/client.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(clientJs);
      return;
    }
    const result = await renderToHtml(<BoundaryErrorPage />, {
      request: req,
      mode: 'stream',
      bootstrapModules: ['/client.js'],
      onError: (error) => serverErrors.push(error),
    });
    result.pipe(res);
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(path: string) {
  const context = await browser.context();
  const page = await context.newPage();
  const logged: string[] = [];
  page.on('console', (m) => logged.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logged.push(`pageerror: ${e.message}`));
  const response = await page.goto(server.url + path);
  expect(response?.status()).toBe(200);
  return { context, page, logged };
}

/** What of the server's page is on screen. */
function visible(page: Awaited<ReturnType<typeof open>>['page']) {
  return page.evaluate(() => ({
    header: document.getElementById('header')?.textContent ?? null,
    fallback: document.getElementById('fallback')?.textContent ?? null,
    footer: document.getElementById('footer')?.textContent ?? null,
    lang: document.documentElement.getAttribute('lang'),
    dataPage: document.documentElement.getAttribute('data-page'),
    bodyClass: document.body.className,
    title: document.title,
  }));
}

describe('hydrate() when a boundary fails again in the browser', () => {
  test('by default the page keeps the server HTML and the error goes to onCaughtError', async () => {
    const { context, page } = await open('/?report=1');
    try {
      await expect.poll(() => page.evaluate(() => window.__caught)).toHaveLength(1);
      expect(await page.evaluate(() => window.__caught[0])).toContain('the product list failed');
      expect(await visible(page)).toEqual({
        header: 'Shop header',
        fallback: 'Loading products',
        footer: 'Shop footer',
        lang: 'en',
        dataPage: 'shop',
        bodyClass: 'shop',
        title: 'Boundary errors',
      });
      expect(serverErrors.length).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });

  test('without onCaughtError the error is logged with console.error', async () => {
    const { context, page, logged } = await open('/');
    try {
      await expect
        .poll(() =>
          logged.filter((l) => l.startsWith('error:') && l.includes('the product list failed')),
        )
        .toHaveLength(1);
      expect((await visible(page)).header).toBe('Shop header');
    } finally {
      await context.close();
    }
  });

  test('keepHtmlOnError: false leaves React’s behaviour: the page goes blank, the error is uncaught', async () => {
    const { context, page, logged } = await open('/?keep=0&report=1');
    try {
      await expect.poll(() => logged.some((l) => l.includes('the product list failed'))).toBe(true);
      await expect.poll(async () => (await visible(page)).header).toBeNull();
      expect((await visible(page)).footer).toBeNull();
      expect(await page.evaluate(() => window.__caught)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
