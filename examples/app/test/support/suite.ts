import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RenderErrorInfo } from '@kiln/core';
import {
  attr,
  type BrowserSession,
  findAll,
  launchChromium,
  listen,
  parseDocument,
  textOf,
} from '@kiln/test-utils';
import type { Page as BrowserPage } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visitorHue } from '../../src/app/format';
import { buildClient } from '../../src/build';
import type { RunningServer, ServerOptions } from '../../src/server/run';
import { LocalPicksGate } from './gate';
import { CHROME_UA, deadEndpoint, GOOGLEBOT_UA, getPage, getTimed } from './http';
import { expectSameLook, screenshot, screenshotWithoutJavaScript, VIEWPORT } from './screens';
import { expectPicksStreamedAfterShell, PICKS_MARKUP, styleText } from './streaming';

/** Starts one of the example servers (each example's `startServer`). */
export type StartServer = (options: ServerOptions) => Promise<RunningServer>;

/**
 * Latency of the slow section in these tests: short, so pages load fast, yet long enough that the
 * browser tests usually hydrate picks streamed after the shell. No assertion depends on it: the
 * streaming test holds the picks back with a gate until it has seen the shell.
 */
const PICKS_LATENCY_MS = 150;

const hydrated = (page: BrowserPage) =>
  page.waitForFunction(() => {
    const picks = document.querySelector('[data-testid="picks"]');
    return (
      window.__kilnExample?.hydrated === true &&
      picks !== null &&
      Object.keys(picks).some((key) => key.startsWith('__reactFiber'))
    );
  });

/**
 * The end-to-end tests every example server must pass, in a real Chromium: JavaScript-free
 * rendering equal to the hydrated page, clean hydration, personalisation, fresh data,
 * streaming, status codes, crawlers, disconnects and a GraphQL outage.
 */
export function describeExampleServer(name: string, start: StartServer): void {
  describe(`${name} example server`, () => {
    let assetsDir: string;
    let server: RunningServer;
    let browser: BrowserSession;
    /** One JavaScript-enabled tab for the browser tests (opening tabs is slow on small machines). */
    let page: BrowserPage;
    const renderErrors: { error: unknown; info: RenderErrorInfo }[] = [];
    const gate = new LocalPicksGate();
    /** Console errors and warnings, page errors, and /graphql requests of `page`, since the last `visit`. */
    const seen = { messages: [] as string[], graphql: [] as string[] };
    const visit = async (path: string) => {
      seen.messages = [];
      seen.graphql = [];
      const response = await page.goto(server.url + path);
      await hydrated(page);
      return response;
    };

    beforeAll(async () => {
      assetsDir = await mkdtemp(join(tmpdir(), `kiln-example-${name}-`));
      await buildClient({ outDir: assetsDir });
      server = await start({
        port: 0,
        host: '127.0.0.1',
        assetsDir,
        picksLatencyMs: PICKS_LATENCY_MS,
        picksGate: gate.wait,
        onError: (error, info) => renderErrors.push({ error, info }),
      });
      browser = await launchChromium();
      const live = await browser.context({ userAgent: CHROME_UA, viewport: VIEWPORT });
      page = await live.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') {
          seen.messages.push(message.text());
        }
      });
      page.on('pageerror', (error) => seen.messages.push(error.message));
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/graphql') seen.graphql.push(request.url());
      });
      // The first render loads modules; time the later ones.
      await getPage(server.url);
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
    });

    it('shows every part styled without JavaScript, pixel for pixel as after hydration', async () => {
      const before = await screenshotWithoutJavaScript(browser, server.url, async (plain) => {
        const header = await plain
          .locator('header')
          .evaluate((el) => getComputedStyle(el).backgroundColor);
        expect(header).not.toBe('rgba(0, 0, 0, 0)');
      });
      await visit('/');
      await expectSameLook(page, `examples-${name}`, before, await screenshot(page));
    });

    it('hydrates with no error, no warning and no GraphQL request, under a strict CSP', async () => {
      const response = await visit('/products/kettle');
      const csp = response?.headers()['content-security-policy'] ?? '';
      expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]{20,}'/);
      expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]{20,}'/);
      expect(csp).not.toContain('unsafe-inline');
      expect(await page.evaluate(() => window.__kilnExample?.recoverableErrors)).toEqual([]);
      expect(seen.graphql).toEqual([]);
      expect(await page.title()).toBe('Stovetop kettle · Kiln shop');
      expect(await page.locator('head title').count()).toBe(1);
      expect(await page.locator('meta[name="description"]').getAttribute('content')).toContain(
        'Enamelled steel',
      );

      const add = page.getByTestId('add-kettle');
      await add.click();
      await expect.poll(() => add.textContent()).toBe('In cart: 1');
      await add.click();
      await expect.poll(() => add.textContent()).toBe('In cart: 2');
      expect(await page.getByTestId('cart').textContent()).toBe('Cart: 2');
      // The "added" colour is a rule the browser inserted: the CSP nonce let it in.
      expect(await add.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
        'rgb(4, 120, 87)',
      );

      expect(seen.messages).toEqual([]);
      expect(seen.graphql).toEqual([]);
    });

    it('signs a visitor in with the form and greets them with member prices', async () => {
      await visit('/products/mugs');
      expect(await page.getByTestId('greeting').textContent()).toBe('Hello, guest.');
      await page.getByLabel('Your name').fill('Ada');
      await Promise.all([
        page.waitForURL(`${server.url}/`),
        page.getByRole('button', { name: /sign in/i }).click(),
      ]);
      await hydrated(page);
      expect(await page.getByTestId('greeting').textContent()).toContain('Welcome back, Ada');
      expect(await page.getByTestId('product-kettle').getByTestId('price').textContent()).toBe(
        '$44.10$49.00',
      );
      expect(seen.messages).toEqual([]);
      expect(seen.graphql).toEqual([]);
      await page.context().clearCookies();
    });

    it('gives two visitors different HTML and CSS, also when rendered at the same time', async () => {
      const visitors = ['Ada', 'Grace', 'Ada', 'Grace', 'Linus'];
      const pages = await Promise.all(
        visitors.map((visitor) => getPage(server.url, { cookie: `kiln_visitor=${visitor}` })),
      );
      pages.forEach((page, i) => {
        const visitor = visitors[i]!;
        expect(page.status).toBe(200);
        expect(page.html).toContain(`Welcome back, <strong>${visitor}</strong>`);
        for (const other of visitors) {
          if (other !== visitor) expect(page.html).not.toContain(`<strong>${other}</strong>`);
        }
        expect(styleText(page.html)).toContain(`hsl(${visitorHue(visitor)} 55% 30%)`);
      });
      expect(styleText(pages[0]!.html)).not.toContain(`hsl(${visitorHue('Grace')} 55% 30%)`);

      const guest = await getPage(server.url);
      expect(guest.html).toContain('Hello, guest.');
      expect(guest.html).toContain('$49.00');
      expect(pages[0]!.html).toContain('$44.10');
    });

    it('shows fresh data on every load', async () => {
      const visits = (html: string) => Number(/visited (?:<!-- -->)?(\d+)/.exec(html)?.[1]);
      const views = (html: string) => Number(/Viewed (?:<!-- -->)?(\d+)/.exec(html)?.[1]);
      const product = `${server.url}/products/teapot`;
      const [home, item] = await Promise.all([getPage(server.url), getPage(product)]);
      const [homeAgain, itemAgain] = await Promise.all([getPage(server.url), getPage(product)]);
      expect(visits(homeAgain.html)).toBeGreaterThan(visits(home.html));
      expect(views(itemAgain.html)).toBe(views(item.html) + 1);

      await visit('/');
      const shown = await page.getByTestId('visits').textContent();
      await page.reload();
      await hydrated(page);
      expect(visits((await page.getByTestId('visits').textContent()) ?? '')).toBeGreaterThan(
        visits(shown ?? ''),
      );
    });

    it('streams the slow section after the shell, with its styles before it', async () => {
      // The shell is everything up to the footer.
      await expectPicksStreamedAfterShell(server.url, {
        end: '</footer>',
        contains: '<header',
        gate,
      });
    });

    it('answers 404 for unknown pages and redirects with the right status', async () => {
      const missing = await getPage(`${server.url}/no/such/page`);
      expect(missing.status).toBe(404);
      expect(missing.html).toContain('Nothing here');
      expect((await getPage(`${server.url}/products/unicorn`)).status).toBe(404);

      const moved = await getPage(`${server.url}/shop`);
      expect(moved.status).toBe(301);
      expect(moved.headers.get('location')).toBe('/');

      const signIn = await getPage(`${server.url}/signin?name=Ada`);
      expect(signIn.status).toBe(303);
      expect(signIn.headers.get('location')).toBe('/');
      expect(signIn.headers.get('set-cookie')).toMatch(/^kiln_visitor=Ada;.*HttpOnly/);
      const signOut = await getPage(`${server.url}/signout`, { cookie: 'kiln_visitor=Ada' });
      expect(signOut.status).toBe(303);
      expect(signOut.headers.get('set-cookie')).toMatch(/^kiln_visitor=;.*Max-Age=0/);
    });

    it('gives a crawler the complete page without streaming scripts', async () => {
      const page = await getPage(server.url, { userAgent: GOOGLEBOT_UA });
      expect(page.status).toBe(200);
      const doc = parseDocument(page.html);
      expect(page.html).toContain(PICKS_MARKUP);
      expect(page.html).not.toContain('picks-loading');
      expect(page.html).not.toContain('http-equiv="refresh"');
      for (const script of findAll(doc, 'script')) {
        const inert =
          attr(script, 'type') === 'application/json' || attr(script, 'src') !== undefined;
        expect(inert, `inline script: ${textOf(script).slice(0, 80)}`).toBe(true);
      }
      expect(findAll(doc, 'template')).toEqual([]);
      const head = findAll(doc, 'head')[0]!;
      expect(findAll(head, 'title').map(textOf)).toEqual(['Kiln shop · Kitchenware']);
    });

    it('survives a client that disconnects mid-stream', async () => {
      // The picks are held back, so the client leaves while the render still waits for them.
      gate.close();
      try {
        const dropped = await getTimed(server.url, () => 'disconnect');
        expect(dropped.disconnected).toBe(true);
      } finally {
        gate.open();
      }
      const next = await getPage(server.url);
      expect(next.status).toBe(200);
      expect(next.html).toContain(PICKS_MARKUP);
      const unexpected = renderErrors.filter((e) => e.info.phase === 'shell');
      expect(unexpected).toEqual([]);
    });

    it('answers /favicon.ico and other file paths with a 404, without rendering the app or querying GraphQL', async () => {
      // A GraphQL endpoint that counts what reaches it: every page render queries it.
      let queries = 0;
      const api = await listen((_req, res) => {
        queries++;
        res.writeHead(503).end();
      });
      const counted = await start({
        port: 0,
        host: '127.0.0.1',
        assetsDir,
        picksLatencyMs: PICKS_LATENCY_MS,
        graphqlUrl: `${api.url}/graphql`,
        onError: () => {},
      });
      try {
        for (const path of [
          '/favicon.ico',
          '/robots.txt',
          '/assets/client.js.map',
          '/products/kettle.json',
        ]) {
          const response = await fetch(counted.url + path);
          const body = await response.text();
          expect(response.status, path).toBe(404);
          expect(response.headers.get('content-type') ?? '', path).not.toContain('text/html');
          expect(body, path).not.toContain('<html');
        }
        expect(queries).toBe(0);
        // A page of the same server does query the endpoint: the count sees a render.
        await (await fetch(counted.url)).text();
        expect(queries).toBeGreaterThan(0);
      } finally {
        await counted.close();
        await api.close();
      }
    });

    it('shows an error state and stays up when the GraphQL endpoint is down', async () => {
      const outage = await start({
        port: 0,
        host: '127.0.0.1',
        assetsDir,
        picksLatencyMs: PICKS_LATENCY_MS,
        graphqlUrl: await deadEndpoint(),
        onError: () => {},
      });
      try {
        for (const path of ['/', '/products/kettle']) {
          const page = await getPage(outage.url + path);
          expect(page.status).toBe(503);
          expect(page.html).toContain('The shop is unavailable');
        }
        const crawler = await getPage(outage.url, { userAgent: GOOGLEBOT_UA });
        expect(crawler.status).toBe(503);
        expect((await getPage(`${outage.url}/no/such/page`)).status).toBe(404);
      } finally {
        await outage.close();
      }
    });
  });
}
