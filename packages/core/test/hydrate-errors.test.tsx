/**
 * What hydrate() does with the errors of a streamed page from a real server, hydrated in
 * Chromium with React's production build:
 * - a Suspense boundary that fails on the server and again in the browser's retry, with no
 *   error boundary in the app (`/boundary`);
 * - boundaries the server's timeout cut on purpose (React error #419 in the browser, "switched
 *   to client rendering"), which the default onRecoverableError does not log, next to a real
 *   server error, which it does (`/timeout`).
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
import { BoundaryErrorContent, BoundaryErrorPage } from './fixtures/boundary-error-app';
import { TimeoutPage } from './fixtures/timeout-app';

/** A server-owned index.html around the same content (template mode, `/boundary/template`). */
const TEMPLATE = `<!DOCTYPE html>
<html lang="en" data-page="shop">
  <head>
    <meta charset="utf-8" />
    <title>Boundary errors</title>
    <!--app-head-->
  </head>
  <body class="shop">
    <div id="root"><!--app-html--></div>
  </body>
</html>`;

let server: Listening;
let browser: BrowserSession;
const serverErrors: unknown[] = [];
const phases: string[] = [];

beforeAll(async () => {
  const bundles = {
    boundary: await bundleForBrowser(
      new URL('./fixtures/boundary-error-client.tsx', import.meta.url),
      { mode: 'production' },
    ),
    timeout: await bundleForBrowser(new URL('./fixtures/timeout-client.tsx', import.meta.url), {
      mode: 'production',
    }),
  };
  server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, kind, file] = url.pathname.split('/') as [string, 'boundary' | 'timeout', string?];
    if (file === 'client.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(bundles[kind]);
      return;
    }
    const result =
      kind === 'boundary'
        ? await renderToHtml(
            file === 'template' ? <BoundaryErrorContent /> : <BoundaryErrorPage />,
            {
              request: req,
              mode: 'stream',
              bootstrapModules: ['/boundary/client.js'],
              onError: (error) => serverErrors.push(error),
              ...(file === 'template' ? { template: TEMPLATE } : {}),
            },
          )
        : await renderToHtml(<TimeoutPage fail={url.searchParams.get('fail') === '1'} />, {
            request: req,
            mode: 'stream',
            // The slow part never resolves on the server: the timeout always cuts it. The bound
            // only needs to leave the (instant) shell time to be ready on a loaded machine.
            timeoutMs: 2_000,
            bootstrapModules: ['/timeout/client.js'],
            onError: (_error, info) => phases.push(info.phase),
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

/** What the server sent, as `visible` reads it. */
const serverPage = {
  header: 'Shop header',
  fallback: 'Loading products',
  footer: 'Shop footer',
  lang: 'en',
  dataPage: 'shop',
  bodyClass: 'shop',
  title: 'Boundary errors',
};

describe('hydrate() when a boundary fails again in the browser', () => {
  test('by default the page keeps the server HTML and the error goes to onCaughtError', async () => {
    const { context, page } = await open('/boundary?report=1');
    try {
      await expect.poll(() => page.evaluate(() => window.__caught)).toHaveLength(1);
      expect(await page.evaluate(() => window.__caught[0])).toContain('the product list failed');
      expect(await visible(page)).toEqual(serverPage);
      expect(serverErrors.length).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });

  test('in template mode too, the container keeps its server HTML', async () => {
    const { context, page } = await open('/boundary/template?report=1');
    try {
      await expect.poll(() => page.evaluate(() => window.__caught)).toHaveLength(1);
      expect(await visible(page)).toEqual(serverPage);
      expect(await page.locator('#root > #header').count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  test('without onCaughtError the error is logged with console.error', async () => {
    const { context, page, logged } = await open('/boundary');
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
    const { context, page, logged } = await open('/boundary?keep=0&report=1');
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

async function load(path: string, ids: string[]): Promise<string[]> {
  const context = await browser.context();
  try {
    const page = await context.newPage();
    const response = await page.goto(server.url + path);
    expect(response?.status()).toBe(200);
    // Hydration has rendered every boundary in the browser: its recoverable errors are reported.
    for (const id of ids) {
      await expect.poll(() => page.locator(`#${id}`).count()).toBe(1);
    }
    return await page.evaluate(() => window.__logged);
  } finally {
    await context.close();
  }
}

describe("hydrate()'s default onRecoverableError after a server timeout", () => {
  test('a boundary the timeout cut is not logged', async () => {
    phases.length = 0;
    expect(await load('/timeout', ['slow'])).toEqual([]);
    expect(phases).toContain('timeout');
  });

  test('a boundary that failed on the server for a real error still is', async () => {
    const logged = await load('/timeout?fail=1', ['slow', 'reviews']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/419/);
  });

  test("an onRecoverableError of the app's own receives them, marked by their digest", async () => {
    expect(await load('/timeout?custom=1', ['slow'])).toEqual(['custom KILN_TIMEOUT']);
  });
});
