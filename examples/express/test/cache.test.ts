import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient } from '@kiln/example-app/build';
import { CHROME_UA } from '@kiln/example-app/test-support';
import { type RedisServer, startRedis } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ExamplePageCache, pageCacheFromEnvironment } from '../src/cache';
import { startServer } from '../src/server';

interface Fetched {
  status: number;
  cache: string | null;
  nonce: string;
  retryAfter: string | undefined;
  html: string;
}

/**
 * GETs a page with a browser's user agent. `host` sets the `Host` header, as a load balancer in
 * front of several servers passes the site's own name to each of them. `init` makes it another
 * request (the admin endpoint's POST with its token).
 */
function get(
  url: string,
  cookie?: string,
  host?: string,
  init: { method?: string; authorization?: string } = {},
): Promise<Fetched> {
  const headers: Record<string, string> = { 'user-agent': CHROME_UA };
  if (cookie) headers.cookie = cookie;
  if (host) headers.host = host;
  if (init.authorization) headers.authorization = init.authorization;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers }, (res) => {
      let html = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        html += chunk;
      });
      res.on('end', () => {
        const csp = String(res.headers['content-security-policy'] ?? '');
        const cache = res.headers['x-kiln-cache'];
        resolve({
          status: res.statusCode ?? 0,
          cache: typeof cache === 'string' ? cache : null,
          nonce: /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? '',
          retryAfter: res.headers['retry-after'] as string | undefined,
          html,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every `nonce` attribute of the page is the CSP header's nonce; returns the page without it. */
function checkedNonce(page: Fetched): string {
  const attributes = [...page.html.matchAll(/\snonce="([^"]*)"/g)].map((m) => m[1]);
  expect(page.nonce.length).toBeGreaterThanOrEqual(20);
  expect(attributes.length).toBeGreaterThan(0);
  expect(new Set(attributes)).toEqual(new Set([page.nonce]));
  return page.html.split(page.nonce).join('NONCE');
}

const visits = (html: string) => Number(/visited (?:<!-- -->)?(\d+)/.exec(html)?.[1]);

describe.each(['memory', 'redis'] as const)('express example with KILN_CACHE=%s', (kind) => {
  let assetsDir: string;
  let redis: RedisServer | undefined;
  const caches: ExamplePageCache[] = [];
  const servers: { url: string; close(): Promise<void> }[] = [];

  /**
   * GETs a page, then waits for the store writes it started: a miss is stored after its
   * response is sent, and the next request must not race that write.
   */
  const settledGet = async (url: string, cookie?: string, host?: string): Promise<Fetched> => {
    const page = await get(url, cookie, host);
    await Promise.all(caches.map((cache) => cache.pages.idle()));
    return page;
  };

  const startCached = async (adminToken?: string) => {
    const cache = await pageCacheFromEnvironment({ KILN_CACHE: kind, REDIS_URL: redis?.url });
    if (!cache) throw new Error('no page cache');
    caches.push(cache);
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      assetsDir,
      picksLatencyMs: 50,
      pages: cache.pages,
      ...(adminToken ? { adminToken } : {}),
    });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    assetsDir = await mkdtemp(join(tmpdir(), `kiln-example-express-${kind}-`));
    await buildClient({ outDir: assetsDir });
    if (kind === 'redis') redis = await startRedis();
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    for (const cache of caches) await cache.close();
    await redis?.stop();
    if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  });

  it('renders once, then serves the complete page from the cache with a fresh nonce each time', async () => {
    const { url } = await startCached();
    const pages = [];
    for (let i = 0; i < 3; i++) pages.push(await settledGet(`${url}/products/kettle`));
    expect(pages.map((page) => page.cache)).toEqual(['miss', 'hit', 'hit']);
    const bodies = pages.map((page) => {
      expect(page.status).toBe(200);
      expect(page.html).toContain('Stovetop kettle');
      expect(page.html).toContain('data-testid="picks"');
      expect(page.html).not.toContain('picks-loading');
      return checkedNonce(page);
    });
    expect(new Set(pages.map((page) => page.nonce)).size).toBe(3);
    expect(bodies[1]).toBe(bodies[0]);
    expect(bodies[2]).toBe(bodies[0]);
    // A hit is the stored render: the visit counter of the page does not move.
    expect(visits(pages[2]!.html)).toBe(visits(pages[0]!.html));
  });

  it('never caches a signed-in visitor nor shows them to a guest', async () => {
    const { url } = await startCached();
    const guest = await settledGet(url);
    expect(guest.cache).toBe('miss');
    for (const name of ['Ada', 'Grace']) {
      const member = await settledGet(url, `kiln_visitor=${name}`);
      expect(member.cache).toBe('bypass');
      expect(member.html).toContain(`Welcome back, <strong>${name}</strong>`);
      checkedNonce(member);
    }
    const again = await settledGet(url);
    expect(again.cache).toBe('hit');
    expect(again.html).toContain('Hello, guest.');
    expect(again.html).not.toContain('Welcome back');
    checkedNonce(again);
  });

  it.runIf(kind === 'redis')('shares pages between two servers through Redis', async () => {
    const first = await startCached();
    const second = await startCached();
    // Behind one load balancer both servers see the site's own Host, which is part of the key.
    const site = 'shop.test';
    expect((await settledGet(`${first.url}/products/teapot`, undefined, site)).cache).toBe('miss');
    const shared = await settledGet(`${second.url}/products/teapot`, undefined, site);
    expect(shared.cache).toBe('hit');
    expect(shared.html).toContain('data-testid="picks"');
    checkedNonce(shared);
  });

  // Runs last: it stops Redis.
  it.runIf(kind === 'redis')(
    'answers 503 with retry-after to an invalidation while Redis is down, and invalidates once it is back',
    async () => {
      const token = 'an-admin-token-of-at-least-32-characters';
      const { url } = await startCached(token);
      expect((await settledGet(`${url}/products/mugs`)).cache).toBe('miss');
      const invalidate = () =>
        get(`${url}/__kiln/invalidate?tag=page`, undefined, undefined, {
          method: 'POST',
          authorization: `Bearer ${token}`,
        });
      const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        await redis!.stop();
        const refused = await invalidate();
        expect(refused).toMatchObject({
          status: 503,
          retryAfter: '1',
          html: 'The page cache could not be reached: the tag may still be cached. Retry.',
        });
        expect(String(logged.mock.calls.at(-1)?.[0])).toContain('invalidating tag page failed');
        await redis!.start();
        // The client reconnects on its own; until it has, the endpoint keeps saying "retry".
        await expect
          .poll(async () => (await invalidate()).status, { timeout: 15_000, interval: 100 })
          .toBe(200);
      } finally {
        logged.mockRestore();
      }
      expect((await settledGet(`${url}/products/mugs`)).cache).toBe('miss');
    },
  );
});
