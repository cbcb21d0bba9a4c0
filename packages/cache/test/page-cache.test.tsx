import { renderToHtml, useRenderContext } from '@kiln/core';
import { listen } from '@kiln/test-utils';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../src/memory-store';
import { type PageCacheOptions, pageCache } from '../src/page-cache';
import { App, type AppState, appState, handler, makeNonce } from './fixtures/app';

function clock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

async function serve(options: Partial<PageCacheOptions> = {}, state: AppState = appState()) {
  const time = clock();
  const store = memoryStore({ now: time.now });
  const pages = pageCache({ store, ttl: 60_000, now: time.now, ...options });
  const server = await listen(handler(pages, state));
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(server.url + path, { headers });
    const body = await response.text();
    return {
      status: response.status,
      cache: response.headers.get('x-kiln-cache'),
      headers: response.headers,
      body,
      nonce: response.headers.get('x-request-nonce') ?? '',
    };
  };
  return { pages, store, state, time, server, get };
}

const text = (body: string, id: string) =>
  new RegExp(`id="${id}">(.*?)</p>`).exec(body)?.[1]?.replace(/<!-- -->/g, '');

describe('pageCache: hit, miss, stale', () => {
  it('renders a miss, stores it, then serves hits without rendering', async () => {
    const app = await serve();
    try {
      const first = await app.get('/products/1');
      expect(first.status).toBe(200);
      expect(first.cache).toBe('miss');
      expect(first.body).toContain('slow v1');
      expect(first.body).not.toContain('loading');
      const second = await app.get('/products/1');
      expect(second.cache).toBe('hit');
      expect(second.status).toBe(200);
      expect(second.headers.get('content-type')).toMatch(/text\/html/);
      expect(Number(second.headers.get('content-length'))).toBe(Buffer.byteLength(second.body));
      expect(second.body.replaceAll(second.nonce, 'N')).toBe(
        first.body.replaceAll(first.nonce, 'N'),
      );
      expect(app.state.renders).toBe(1);
      expect((await app.get('/products/2')).cache).toBe('miss');
      expect(app.state.renders).toBe(2);
    } finally {
      await app.server.close();
    }
  });

  it('serves stale after ttl, re-renders once in the background, then misses after the stale window', async () => {
    const app = await serve({ ttl: 10_000, staleWhileRevalidate: 50_000 });
    try {
      expect((await app.get('/')).cache).toBe('miss');
      app.time.advance(9_000);
      const fresh = await app.get('/');
      expect(fresh.cache).toBe('hit');
      expect(fresh.headers.get('age')).toBe('9');

      app.time.advance(2_000);
      app.state.version = 2;
      app.state.delayMs = 300;
      const stale = await Promise.all([app.get('/'), app.get('/'), app.get('/')]);
      expect(stale.map((r) => r.cache)).toEqual(['stale', 'stale', 'stale']);
      expect(stale.every((r) => text(r.body, 'version') === 'v1')).toBe(true);
      await app.pages.idle();
      expect(app.state.renders).toBe(2);
      const refreshed = await app.get('/');
      expect(refreshed.cache).toBe('hit');
      expect(text(refreshed.body, 'version')).toBe('v2');
      expect(refreshed.headers.get('age')).toBe('0');

      app.time.advance(60_001);
      app.state.version = 3;
      const expired = await app.get('/');
      expect(expired.cache).toBe('miss');
      expect(text(expired.body, 'version')).toBe('v3');
      expect(app.state.renders).toBe(3);
    } finally {
      await app.server.close();
    }
  });

  it('drops a stale page whose background render is no longer storable', async () => {
    const app = await serve({ ttl: 1_000, staleWhileRevalidate: 60_000 });
    try {
      expect((await app.get('/products/8')).cache).toBe('miss');
      await app.pages.idle();
      app.time.advance(2_000);
      app.state.status = 404;
      const stale = await app.get('/products/8');
      expect(stale).toMatchObject({ cache: 'stale', status: 200 });
      await app.pages.idle();
      expect(app.store.size).toBe(0);
      const gone = await app.get('/products/8');
      expect(gone).toMatchObject({ cache: 'miss', status: 404 });
    } finally {
      await app.server.close();
    }
  });

  it('renders 50 concurrent misses of one key once', async () => {
    const state = appState();
    state.delayMs = 100;
    const app = await serve({}, state);
    try {
      const responses = await Promise.all(Array.from({ length: 50 }, () => app.get('/products/7')));
      expect(app.state.renders).toBe(1);
      expect(responses.every((r) => r.status === 200 && r.body.includes('slow v1'))).toBe(true);
      expect(responses.filter((r) => r.cache === 'miss')).toHaveLength(1);
      expect(responses.filter((r) => r.cache === 'hit')).toHaveLength(49);
      expect(new Set(responses.map((r) => r.nonce)).size).toBe(50);
    } finally {
      await app.server.close();
    }
  });

  it('reports what it did on the result and in the diagnostics', async () => {
    const time = clock();
    const pages = pageCache({ store: memoryStore(), ttl: 1_000, now: time.now, header: false });
    const request = () => new Request('http://shop.test/products/9');
    const miss = await pages.render(<App state={appState()} />, { request: request() });
    expect(miss.cache).toMatchObject({
      status: 'miss',
      key: 'page:/products/9\nhost=shop.test\nscheme=http',
      stored: true,
    });
    expect(miss.cache.tags).toEqual(['all-pages', 'product:9']);
    expect(miss.headers.has('x-kiln-cache')).toBe(false);
    await miss.text();
    await pages.idle();
    time.advance(250);
    const hit = await pages.render(<App state={appState()} />, { request: request() });
    expect(hit.cache).toMatchObject({ status: 'hit', ageMs: 250, coalesced: false });
    expect(hit.diagnostics.plugins['kiln-cache']).toMatchObject({ status: 'hit', ageMs: 250 });
    const response = hit.toResponse({ headers: { 'x-extra': '1' } });
    expect(response.headers.get('x-extra')).toBe('1');
    expect(await response.text()).toContain('id="path">/products/9<');
    expect(await hit.finished).toBe(hit.diagnostics);
  });
});

describe('pageCache: CSP nonce', () => {
  it('puts a fresh nonce in every hit, matching the CSP header, with no trace of older nonces', async () => {
    const app = await serve();
    try {
      const miss = await app.get('/');
      const seen = new Set<string>([miss.nonce]);
      for (let i = 0; i < 5; i++) {
        const hit = await app.get('/');
        expect(hit.cache).toBe('hit');
        expect(seen.has(hit.nonce)).toBe(false);
        seen.add(hit.nonce);
        expect(hit.headers.get('content-security-policy')).toBe(
          `script-src 'nonce-${hit.nonce}'; style-src 'nonce-${hit.nonce}'`,
        );
        const nonces = [...hit.body.matchAll(/nonce="([^"]*)"/g)].map((m) => m[1]);
        expect(nonces.length).toBeGreaterThanOrEqual(2);
        expect(nonces.every((n) => n === hit.nonce)).toBe(true);
        for (const old of seen) if (old !== hit.nonce) expect(hit.body).not.toContain(old);
      }
    } finally {
      await app.server.close();
    }
  });

  it('does not serve a page stored without a nonce to a request that has one', async () => {
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const state = appState();
    const request = () => new Request('http://shop.test/');
    const plain = await pages.render(<App state={state} />, { request: request() });
    expect(plain.cache.status).toBe('miss');
    await pages.idle();
    const nonce = makeNonce();
    const withNonce = await pages.render(<App state={state} />, { request: request(), nonce });
    expect(withNonce.cache.status).toBe('miss');
    expect(await withNonce.text()).toContain(`nonce="${nonce}"`);
    await pages.idle();
    const again = await pages.render(<App state={state} />, {
      request: request(),
      nonce: makeNonce(),
    });
    expect(again.cache.status).toBe('hit');
  });

  it('bypasses, with a reason, a nonce that is not base64: a hit never writes it', async () => {
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const state = appState();
    const request = () => new Request('http://shop.test/');
    await (
      await pages.render(<App state={state} />, { request: request(), nonce: makeNonce() })
    ).text();
    await pages.idle();
    const hostile = '"><img src=x onerror=alert(1)>AAAAAAAAAAAAAAAA';
    const errors: unknown[] = [];
    const result = await pages.render(<App state={state} />, {
      request: request(),
      nonce: hostile,
      onError: (error) => errors.push(error),
    });
    expect(errors).toEqual([expect.objectContaining({ code: 'KILN_INVALID_NONCE' })]);
    expect(result.cache).toMatchObject({
      status: 'bypass',
      reason: expect.stringMatching(/^invalid nonce/),
    });
    // Core refuses the same nonce: the visitor gets the error document, never the value.
    expect(result.status).toBe(500);
    const html = await result.text();
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain(hostile);
  });

  it('does not store a page rendered with a nonce too short to find safely', async () => {
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const result = await pages.render(<App state={appState()} />, {
      request: new Request('http://shop.test/'),
      nonce: 'abc',
    });
    expect(result.cache).toMatchObject({ status: 'miss', stored: false });
    expect(result.cache.reason).toMatch(/nonce/);
  });
});

describe('pageCache: personalised requests', () => {
  it('never stores nor serves cached pages to requests with cookies or authorization', async () => {
    const app = await serve();
    try {
      expect((await app.get('/')).cache).toBe('miss');
      expect((await app.get('/')).cache).toBe('hit');
      const alice = await app.get('/', { cookie: 'user=alice' });
      expect(alice.cache).toBe('bypass');
      expect(text(alice.body, 'greeting')).toBe('Hello alice');
      const bob = await app.get('/', { cookie: 'user=bob' });
      expect(text(bob.body, 'greeting')).toBe('Hello bob');
      const token = await app.get('/', { authorization: 'Bearer x' });
      expect(token.cache).toBe('bypass');
      const anonymous = await app.get('/');
      expect(anonymous.cache).toBe('hit');
      expect(text(anonymous.body, 'greeting')).toBe('Hello guest');
      expect(app.store.size).toBe(1);
    } finally {
      await app.server.close();
    }
  });

  it('keeps visitors apart when anonymous and personal requests of one page run at once', async () => {
    const state = appState();
    state.delayMs = 50;
    const app = await serve({}, state);
    try {
      const requests = Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? app.get('/shared') : app.get('/shared', { cookie: `user=u${i}` }),
      );
      const responses = await Promise.all(requests);
      responses.forEach((response, i) => {
        expect(text(response.body, 'greeting')).toBe(i % 2 === 0 ? 'Hello guest' : `Hello u${i}`);
        if (i % 2 === 0) expect(['miss', 'hit']).toContain(response.cache);
        else expect(response.cache).toBe('bypass');
      });
      expect(responses.filter((r) => r.cache === 'miss')).toHaveLength(1);
    } finally {
      await app.server.close();
    }
  });

  it('streams bypassed requests as usual', async () => {
    const state = appState();
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const result = await pages.render(<App state={state} />, {
      request: new Request('http://shop.test/', { method: 'POST' }),
      mode: 'stream',
      isBot: false,
    });
    expect(result.cache).toMatchObject({ status: 'bypass', reason: 'method POST' });
    expect(result.diagnostics.mode).toBe('stream');
    expect(result.headers.get('x-kiln-cache')).toBe('bypass');
    expect(await result.text()).toContain('slow v1');
  });

  it('does not store responses that set cookies, are not 200, are private or call noStore()', async () => {
    const app = await serve();
    try {
      for (const path of ['/?set-cookie', '/missing', '/private', '/nostore', '/boom']) {
        const first = await app.get(path);
        expect(first.cache).toBe('miss');
        const second = await app.get(path);
        expect(second.cache).toBe('miss');
      }
      expect((await app.get('/?set-cookie')).headers.get('set-cookie')).toBe('seen=1; Path=/');
      expect((await app.get('/missing')).status).toBe(404);
      expect(app.store.size).toBe(0);
    } finally {
      await app.server.close();
    }
  });

  it('does not store a render that timed out', async () => {
    const state = appState();
    state.delayMs = 2_000;
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const errors: string[] = [];
    const result = await pages.render(<App state={state} />, {
      request: new Request('http://shop.test/'),
      timeoutMs: 50,
      onError: (_error, info) => errors.push(info.phase),
    });
    expect(result.cache).toMatchObject({ status: 'miss', stored: false });
    expect(result.cache.reason).toMatch(/incomplete render/);
    expect(errors.length).toBeGreaterThan(0);
    const boom = await pages.render(<App state={appState()} />, {
      request: new Request('http://shop.test/boom'),
      onError: () => {},
    });
    expect(boom.cache).toMatchObject({
      status: 'miss',
      stored: false,
      reason: 'incomplete render (boundary error)',
    });
  });

  it('follows the app rule when it replaces the default one', async () => {
    const app = await serve({
      cacheable: (request) => request.method === 'GET' && !request.cookies.user,
    });
    try {
      expect((await app.get('/', { cookie: 'theme=dark' })).cache).toBe('miss');
      expect((await app.get('/', { cookie: 'theme=dark' })).cache).toBe('hit');
      const alice = await app.get('/', { cookie: 'theme=dark; user=alice' });
      expect(alice.cache).toBe('bypass');
      expect(text(alice.body, 'greeting')).toBe('Hello alice');
    } finally {
      await app.server.close();
    }
  });

  describe('stores a page only when the key or the request rule decided every input it read', () => {
    const render = (pages: ReturnType<typeof pageCache>, path: string, headers: HeadersInit) =>
      pages.render(<Theme />, { request: new Request(`http://shop.test${path}`, { headers }) });

    it('a cookie the rule does not look at', async () => {
      const pages = pageCache({
        store: memoryStore(),
        ttl: 60_000,
        cacheable: (request) => request.method === 'GET' && !request.cookies.user,
      });
      const dark = await render(pages, '/', { cookie: 'theme=dark' });
      expect(dark.cache).toMatchObject({
        status: 'miss',
        stored: false,
        reason: expect.stringContaining('the render read the cookie theme'),
      });
      await pages.idle();
      const light = await render(pages, '/', {});
      expect(light.cache.status).toBe('miss');
      expect(await light.text()).toContain('<p id="theme">light</p>');
    });

    it('a header outside vary, and the same header once in vary', async () => {
      for (const vary of [[], ['user-agent']]) {
        const pages = pageCache({ store: memoryStore(), ttl: 60_000, vary });
        const first = await render(pages, '/?agent', { 'user-agent': 'evil<b>' });
        await pages.idle();
        const second = await render(pages, '/?agent', { 'user-agent': 'Firefox' });
        expect(first.cache.stored).toBe(vary.length > 0);
        if (vary.length === 0) {
          expect(first.cache.reason).toContain('request header user-agent');
        }
        expect(second.cache.status).toBe('miss');
        expect(await second.text()).toContain('Firefox');
      }
    });

    it('cookies when the default rule lets no cookie through', async () => {
      const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
      expect((await render(pages, '/', {})).cache).toMatchObject({ stored: true });
      await pages.idle();
      expect((await render(pages, '/', {})).cache.status).toBe('hit');
      expect((await render(pages, '/', { cookie: 'theme=dark' })).cache.status).toBe('bypass');
    });
  });
});

/** A page that reads a cookie, and a header when asked by `?agent`. */
function Theme(): ReactNode {
  const ctx = useRenderContext();
  return (
    <html lang="en">
      <body>
        <p id="theme">{ctx.cookies.theme ?? 'light'}</p>
        <p id="agent">{ctx.url.searchParams.has('agent') ? ctx.headers.get('user-agent') : ''}</p>
      </body>
    </html>
  );
}
describe('pageCache: keys and invalidation', () => {
  it('keeps one entry per vary value', async () => {
    const app = await serve({ vary: ['Accept-Language'] }, { ...appState(), showsLanguage: true });
    try {
      expect((await app.get('/', { 'accept-language': 'fr' })).cache).toBe('miss');
      expect((await app.get('/', { 'accept-language': 'de' })).cache).toBe('miss');
      const fr = await app.get('/', { 'accept-language': 'fr' });
      expect(fr.cache).toBe('hit');
      expect(text(fr.body, 'lang')).toBe('fr');
      expect(text((await app.get('/', { 'accept-language': 'de' })).body, 'lang')).toBe('de');
      expect(await app.pages.invalidate({ key: '/' })).toBe(2);
      expect((await app.get('/', { 'accept-language': 'fr' })).cache).toBe('miss');
    } finally {
      await app.server.close();
    }
  });

  it('invalidates by tag set in components and by prefix', async () => {
    const app = await serve();
    try {
      for (const path of ['/products/1', '/products/2', '/about']) await app.get(path);
      await app.pages.idle();
      expect(await app.pages.invalidate('product:1')).toBe(1);
      expect((await app.get('/products/1')).cache).toBe('miss');
      expect((await app.get('/products/2')).cache).toBe('hit');
      expect(await app.pages.invalidate({ prefix: '/products/' })).toBe(2);
      expect((await app.get('/products/2')).cache).toBe('miss');
      expect((await app.get('/about')).cache).toBe('hit');
      await app.pages.idle();
      expect(await app.pages.invalidate({ tag: 'all-pages' })).toBe(2);
      expect(app.store.size).toBe(0);
    } finally {
      await app.server.close();
    }
  });

  it('leaves requests uncached when key() returns undefined', async () => {
    const pages = pageCache({
      store: memoryStore(),
      ttl: 60_000,
      key: (request) =>
        request.url.searchParams.has('preview') ? undefined : request.url.pathname,
    });
    const result = await pages.render(<App state={appState()} />, {
      request: new Request('http://shop.test/?preview'),
    });
    expect(result.cache.status).toBe('bypass');
  });
});

describe('pageCache: options', () => {
  it('rejects a missing store or ttl', () => {
    expect(() => pageCache({ ttl: 1 } as never)).toThrow(/store/);
    expect(() => pageCache({ store: memoryStore(), ttl: 0 })).toThrow(/ttl/);
  });

  it('renders the same document as renderToHtml in buffer mode', async () => {
    const state = appState();
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const nonce = makeNonce();
    const request = () => new Request('http://shop.test/products/3');
    const direct = await renderToHtml(<App state={state} />, {
      request: request(),
      nonce,
      mode: 'buffer',
    });
    const cached = await pages.render(<App state={state} />, { request: request(), nonce });
    expect(await cached.text()).toBe(await direct.text());
  });
});
