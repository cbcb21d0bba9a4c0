import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient } from '@kiln/example-app/build';
import { CHROME_UA, differentPixels, screenshot, VIEWPORT } from '@kiln/example-app/test-support';
import { type BrowserSession, launchChromium, startRedis } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExamplePageCache, pageCacheFromEnvironment } from '../src/cache';
import { startServer } from '../src/server';

/*
 * The shop with KILN_CACHE=partial: the front page's catalogue, stock, counters and picks, and
 * each product page's name, description, stock, counter and picks, are shells stored once; the
 * header (greeting, sign-in state, cart) and every price are holes, rendered for each visitor.
 * Checked over HTTP and in Chromium under the shop's strict nonce CSP.
 */

interface Fetched {
  status: number;
  cache: string | null;
  nonce: string;
  html: string;
}

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

async function get(url: string, cookie?: string, userAgent = CHROME_UA): Promise<Fetched> {
  const response = await fetch(url, {
    headers: { 'user-agent': userAgent, ...(cookie ? { cookie } : {}) },
  });
  const csp = response.headers.get('content-security-policy') ?? '';
  return {
    status: response.status,
    cache: response.headers.get('x-kiln-cache'),
    nonce: /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? '',
    html: await response.text(),
  };
}

/** Every `nonce` attribute of the page is this response's CSP nonce. */
function expectOwnNonce(page: Fetched): void {
  const attributes = [...page.html.matchAll(/\snonce="([^"]*)"/g)].map((m) => m[1]);
  expect(page.nonce.length).toBeGreaterThanOrEqual(20);
  expect(attributes.length).toBeGreaterThan(3);
  expect(new Set(attributes)).toEqual(new Set([page.nonce]));
}

/** The Express shop on a free port, built for partial pre-rendering, with `cache`. */
function startPartial(cache: ExamplePageCache, assetsDir: string) {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    assetsDir,
    picksLatencyMs: 50,
    pages: cache.pages,
    crawlers: cache.crawlers,
    partial: cache.partial,
  });
}

describe('express example with KILN_CACHE=partial', () => {
  let assetsDir: string;
  let cache: ExamplePageCache;
  let server: { url: string; close(): Promise<void> };
  let chromium: BrowserSession;

  beforeAll(async () => {
    assetsDir = await mkdtemp(join(tmpdir(), 'kiln-example-express-partial-'));
    await buildClient({ outDir: assetsDir });
    const made = await pageCacheFromEnvironment({ KILN_CACHE: 'partial' });
    if (!made) throw new Error('no cache');
    cache = made;
    server = await startPartial(cache, assetsDir);
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await cache?.close();
    if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  });

  it('serves every visitor the stored shell with their own header and prices, each with a fresh nonce', async () => {
    const first = await get(`${server.url}/`, 'kiln_visitor=Ada');
    expect(first.cache).toBe('miss');
    await cache.pages.idle();
    const ada = await get(`${server.url}/`, 'kiln_visitor=Ada');
    const grace = await get(`${server.url}/`, 'kiln_visitor=Grace');
    const guest = await get(`${server.url}/`);
    for (const page of [ada, grace, guest]) {
      expect(page.cache).toBe('partial');
      expect(page.html).toContain('Stovetop kettle');
      expect(page.html).toContain('data-testid="picks"');
      expectOwnNonce(page);
    }
    expect(ada.html).toContain('Welcome back, <strong>Ada</strong>');
    // member prices: the list price struck through beside the visitor's
    expect(ada.html).toMatch(/<s class="/);
    expect(guest.html).not.toMatch(/<s class="/);
    expect(ada.html).not.toContain('Grace');
    expect(grace.html).toContain('Welcome back, <strong>Grace</strong>');
    expect(grace.html).not.toContain('Ada');
    expect(guest.html).not.toContain('Welcome back');
    expect(guest.html).not.toMatch(/Ada|Grace/);
    expect(new Set([ada.nonce, grace.nonce, guest.nonce]).size).toBe(3);
  });

  it('serves a product page from its own shell: the product for everyone, the header and the price for each visitor', async () => {
    const url = `${server.url}/products/kettle`;
    const first = await get(url, 'kiln_visitor=Ada');
    expect(first.cache).toBe('miss');
    await cache.pages.idle();
    const ada = await get(url, 'kiln_visitor=Ada');
    const grace = await get(url, 'kiln_visitor=Grace');
    const guest = await get(url);
    for (const page of [first, ada, grace, guest]) {
      expect(page.status).toBe(200);
      expect(page.html).toContain('<title>Stovetop kettle · Kiln shop</title>');
      expect(page.html).toContain('Enamelled steel, 1.7 litres, whistles when the water boils.');
      expect(page.html).toContain('data-testid="views"');
      expect(page.html).toContain('data-testid="picks"');
      expectOwnNonce(page);
    }
    for (const page of [ada, grace, guest]) expect(page.cache).toBe('partial');
    // the visitor's header and member price, rendered for them alone
    expect(ada.html).toContain('Welcome back, <strong>Ada</strong>');
    expect(ada.html).toMatch(/<s class="/);
    expect(ada.html).not.toContain('Grace');
    expect(grace.html).toContain('Welcome back, <strong>Grace</strong>');
    expect(grace.html).not.toContain('Ada');
    expect(guest.html).not.toContain('Welcome back');
    expect(guest.html).not.toMatch(/<s class="/);
    expect(guest.html).not.toMatch(/Ada|Grace/);
    // another product has its own shell
    const teapot = await get(`${server.url}/products/teapot`, 'kiln_visitor=Ada');
    expect(teapot.cache).toBe('miss');
    expect(teapot.html).not.toContain('Stovetop kettle ·');
    expect(teapot.html).toContain('Welcome back, <strong>Ada</strong>');
  });

  it('serves crawlers whole pages from the page cache on the same store, not a render each', async () => {
    const path = `${server.url}/products/kettle`;
    const first = await get(path, undefined, GOOGLEBOT);
    expect(first.status).toBe(200);
    expect(first.cache).toBe('miss');
    await cache.crawlers?.idle();
    const again = await get(path, undefined, GOOGLEBOT);
    expect(again.cache).toBe('hit');
    for (const page of [first, again]) {
      // the whole page in one document: the guest's header and price, no hole left to fill
      expect(page.html).toContain('Stovetop kettle');
      expect(page.html).toContain('Hello, guest.');
      expect(page.html).not.toContain('<template id="B:');
      expectOwnNonce(page);
    }
    expect(again.nonce).not.toBe(first.nonce);
    // a browser on the same path still gets the shell and its own holes
    expect((await get(path, 'kiln_visitor=Ada')).cache).toMatch(/^(partial|miss)$/);
  });

  it('a product that does not exist is a 404 for every visitor', async () => {
    for (const cookie of ['kiln_visitor=Ada', undefined, 'kiln_visitor=Ada']) {
      const page = await get(`${server.url}/products/no-such-pot`, cookie);
      await cache.pages.idle();
      expect(page.status).toBe(404);
      expect(page.html).not.toContain('Welcome back, <strong>Ada</strong>');
    }
  });

  for (const [path, who] of [
    ['/', 'Ada'],
    ['/', undefined],
    ['/products/kettle', 'Ada'],
    ['/products/kettle', undefined],
  ] as const) {
    it(`in Chromium (${path}, ${who ?? 'guest'}): right header and price, no flash of unstyled content, no GraphQL request, no console error`, async () => {
      const look = async (hydrate: boolean) => {
        const context = await chromium.context({ viewport: VIEWPORT, userAgent: CHROME_UA });
        if (who) {
          await context.addCookies([{ name: 'kiln_visitor', value: who, url: server.url }]);
        }
        const page = await context.newPage();
        const messages: string[] = [];
        const graphql: string[] = [];
        page.on('console', (message) => {
          // the browser's own favicon request is answered by the shop's 404 page
          if (message.location().url.endsWith('/favicon.ico')) return;
          if (message.type() === 'error' || message.type() === 'warning') {
            messages.push(message.text());
          }
        });
        page.on('pageerror', (error) => messages.push(String(error)));
        page.on('request', (request) => {
          if (new URL(request.url()).pathname === '/graphql') graphql.push(request.url());
        });
        if (!hydrate) await page.route('**/assets/**', (route) => route.abort());
        await page.goto(`${server.url}${path}`);
        if (hydrate) {
          await page.waitForFunction(() => window.__kilnExample?.hydrated === true);
          expect(await page.evaluate(() => window.__kilnExample?.recoverableErrors)).toEqual([]);
        }
        await page.waitForSelector('[data-testid="picks"]');
        // every streamed hole revealed: React moves a segment into place from its hidden
        // container with an inline script, batched after the document loads
        await page.waitForFunction(
          () => document.querySelectorAll('div[hidden][id*="S:"]').length === 0,
        );
        const greeting = await page.textContent('header [data-testid="greeting"]');
        const price = await page.textContent('main [data-testid="price"]');
        const shot = await screenshot(page);
        return {
          page,
          context,
          greeting,
          price,
          shot,
          messages: hydrate ? messages : messages.filter((m) => !m.startsWith('Failed to load')),
          graphql,
        };
      };
      const before = await look(false);
      const after = await look(true);
      try {
        expect(after.greeting).toContain(who ? `Welcome back, ${who}` : 'Hello, guest.');
        expect(before.greeting).toBe(after.greeting);
        // the first price on the page: a member sees theirs beside the struck list price
        expect(after.price?.match(/\d[.,]\d\d/g)?.length).toBe(who ? 2 : 1);
        expect(before.price).toBe(after.price);
        expect(after.messages).toEqual([]);
        expect(before.messages).toEqual([]);
        expect(after.graphql).toEqual([]);
        expect(
          await differentPixels(
            after.page,
            `partial-${path === '/' ? 'home' : 'product'}-${who ?? 'guest'}`,
            before.shot,
            after.shot,
          ),
        ).toBeLessThanOrEqual(20);
      } finally {
        await before.context.close();
        await after.context.close();
      }
    });
  }
});

describe('express example with KILN_CACHE=partial and REDIS_URL', () => {
  it('a shell stored by one server is served, with fresh holes, by another', async () => {
    const assetsDir = await mkdtemp(join(tmpdir(), 'kiln-example-express-partial-redis-'));
    const redis = await startRedis();
    const caches: ExamplePageCache[] = [];
    const servers: { url: string; close(): Promise<void> }[] = [];
    try {
      await buildClient({ outDir: assetsDir });
      for (let i = 0; i < 2; i++) {
        const cache = await pageCacheFromEnvironment({
          KILN_CACHE: 'partial',
          REDIS_URL: redis.url,
        });
        if (!cache) throw new Error('no cache');
        caches.push(cache);
        servers.push(await startPartial(cache, assetsDir));
      }
      // the same Host on both, as behind one load balancer: the key holds the host
      const fetchAs = (url: string, cookie: string) =>
        new Promise<{ cache: string | undefined; html: string }>((resolve, reject) => {
          const headers = { host: 'shop.test', 'user-agent': CHROME_UA, cookie };
          httpRequest(url, { headers }, (res) => {
            let html = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              html += chunk;
            });
            res.on('end', () => resolve({ cache: res.headers['x-kiln-cache'] as string, html }));
            res.on('error', reject);
          })
            .on('error', reject)
            .end();
        });
      expect((await fetchAs(`${servers[0]!.url}/`, 'kiln_visitor=Ada')).cache).toBe('miss');
      await caches[0]!.pages.idle();
      const grace = await fetchAs(`${servers[1]!.url}/`, 'kiln_visitor=Grace');
      expect(grace.cache).toBe('partial');
      expect(grace.html).toContain('Welcome back, <strong>Grace</strong>');
      expect(grace.html).not.toContain('Ada');
    } finally {
      for (const server of servers) await server.close();
      for (const cache of caches) await cache.close();
      await redis.stop();
      await rm(assetsDir, { recursive: true, force: true });
    }
  });
});
