import { connect } from 'node:net';
import { type RenderResult, useRenderContext } from '@kiln/core';
import { listen } from '@kiln/test-utils';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../src/memory-store';
import { type PageCacheOptions, pageCache } from '../src/page-cache';
import { partialCache } from '../src/partial-cache';
import { appState, handler } from './fixtures/app';

/** Sends `head` as written (no client normalises it) and reads the whole response. */
function raw(
  port: number,
  head: string,
): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      resolve({ status: Number(headers.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
    socket.write(`${head}\r\nconnection: close\r\n\r\n`);
  });
}

const cacheOf = (headers: string) => /x-kiln-cache: (\w+)/i.exec(headers)?.[1];

async function serve(options: Partial<PageCacheOptions> = {}) {
  const pages = pageCache({ store: memoryStore(), ttl: 60_000, ...options });
  const reasons: (string | undefined)[] = [];
  const render = pages.render.bind(pages);
  pages.render = async (element, renderOptions) => {
    const result = await render(element, renderOptions);
    reasons.push(result.cache.reason);
    return result;
  };
  const server = await listen(handler(pages, appState()));
  const port = Number(new URL(server.url).port);
  const get = async (target: string, headers: string[] = ['host: shop.test']) => {
    const response = await raw(port, [`GET ${target} HTTP/1.1`, ...headers].join('\r\n'));
    return { ...response, cache: cacheOf(response.headers), reason: reasons.at(-1) };
  };
  return { pages, server, get };
}

describe('pageCache: default key (real node:http server, raw requests)', () => {
  it('keys each host apart, lower-cased', async () => {
    const app = await serve();
    try {
      expect((await app.get('/', ['host: a.shop.test'])).cache).toBe('miss');
      await app.pages.idle();
      expect((await app.get('/', ['host: A.Shop.Test'])).cache).toBe('hit');
      expect((await app.get('/', ['host: b.shop.test'])).cache).toBe('miss');
      expect(await app.pages.invalidate({ key: '/' })).toBe(2);
    } finally {
      await app.server.close();
    }
  });

  it('bypasses, with a reason, a Host that is not host[:port], and stores nothing for it', async () => {
    const app = await serve();
    try {
      for (const host of [
        'shop.test/admin#',
        'shop.test?x=',
        'evil@shop.test',
        'shop.test:99999x',
      ]) {
        const response = await app.get('/products/attacker', [`host: ${host}`]);
        expect(response.cache, host).toBe('bypass');
        expect(response.reason, host).toMatch(/^invalid key: host/);
      }
      await app.pages.idle();
      for (const path of ['/', '/admin', '/products/attacker']) {
        expect((await app.get(path)).cache, path).toBe('miss');
      }
    } finally {
      await app.server.close();
    }
  });

  it('bypasses over-long targets and vary values with control characters', async () => {
    const app = await serve({ vary: ['accept-language'] });
    try {
      const long = await app.get(`/?q=${'a'.repeat(3000)}`);
      expect(long.cache).toBe('bypass');
      expect(long.reason).toMatch(/path and query over/);
      const tab = await app.get('/', ['host: shop.test', 'accept-language: fr\tde']);
      expect(tab.cache).toBe('bypass');
      expect(tab.reason).toMatch(/control character in the accept-language header/);
      const longLang = await app.get('/', [
        'host: shop.test',
        `accept-language: ${'x'.repeat(2000)}`,
      ]);
      expect(longLang.cache).toBe('bypass');
      expect((await app.get('/', ['host: shop.test', 'accept-language: fr'])).cache).toBe('miss');
    } finally {
      await app.server.close();
    }
  });
});

/** A page that writes absolute URLs from `ctx.url`, as canonical links and share links do. */
function OriginPage(): ReactNode {
  const ctx = useRenderContext();
  return (
    <html lang="en">
      <head>
        <link rel="canonical" href={`${ctx.url.origin}${ctx.url.pathname}`} />
      </head>
      <body>
        <p>Kiln Pottery</p>
        <p id="search">{ctx.url.search}</p>
      </body>
    </html>
  );
}

const canonicalOf = (body: string) => /rel="canonical" href="([^"]*)"/.exec(body)?.[1];
const searchOf = (body: string) => /<p id="search">([^<]*)<\/p>/.exec(body)?.[1];

/**
 * Serves `OriginPage` from `cache` behind a trusted proxy (`trustProxy: true`); `get` sends
 * `host: app.internal:3000`, the proxy's own host, and the given headers.
 */
async function serveOrigin(cache: {
  render(
    element: ReactNode,
    options: { request: never; trustProxy: boolean },
  ): Promise<RenderResult>;
}) {
  const server = await listen(async (req, res) => {
    const result = await cache.render(<OriginPage />, { request: req as never, trustProxy: true });
    result.pipe(res);
  });
  const port = Number(new URL(server.url).port);
  const get = async (target: string, headers: string[] = []) => {
    const response = await raw(
      port,
      [`GET ${target} HTTP/1.1`, 'host: app.internal:3000', ...headers].join('\r\n'),
    );
    return {
      cache: cacheOf(response.headers),
      canonical: canonicalOf(response.body),
      search: searchOf(response.body),
    };
  };
  return { server, get };
}

/** The header lines a proxy adds for a visitor of `proto://host`. */
const forwardedFor = (host: string, proto = 'https') => [
  `x-forwarded-host: ${host}`,
  `x-forwarded-proto: ${proto}`,
];

describe('behind a trusted proxy, the key holds the origin the page was rendered for', () => {
  // The proxy's own Host (app.internal:3000) is the same for every visitor; the forwarded host
  // and scheme are what the page renders with. A key without them would let one forged
  // X-Forwarded-Host or X-Forwarded-Proto write its URLs into every visitor's page.
  it('pageCache: a forged forwarded host or scheme gets its own entry, never the others', async () => {
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const app = await serveOrigin(pages);
    try {
      const forged = await app.get('/products', forwardedFor('evil.example'));
      expect(forged).toMatchObject({ cache: 'miss', canonical: 'https://evil.example/products' });
      await pages.idle();
      const shop = forwardedFor('shop.example');
      expect(await app.get('/products', shop)).toMatchObject({
        cache: 'miss',
        canonical: 'https://shop.example/products',
      });
      const downgraded = await app.get('/products', forwardedFor('shop.example', 'http'));
      expect(downgraded).toMatchObject({
        cache: 'miss',
        canonical: 'http://shop.example/products',
      });
      await pages.idle();
      expect(await app.get('/products', shop)).toMatchObject({
        cache: 'hit',
        canonical: 'https://shop.example/products',
      });
      expect(await app.get('/products', forwardedFor('evil.example'))).toMatchObject({
        cache: 'hit',
        canonical: 'https://evil.example/products',
      });
    } finally {
      await app.server.close();
    }
  });

  it('partialCache: the shell of a forged forwarded host is never served to another origin', async () => {
    const shells = partialCache({ store: memoryStore(), ttl: 60_000 });
    const app = await serveOrigin(shells);
    try {
      const forged = await app.get('/products', forwardedFor('evil.example'));
      expect(forged).toMatchObject({ cache: 'miss', canonical: 'https://evil.example/products' });
      await shells.idle();
      const shop = forwardedFor('shop.example');
      expect(await app.get('/products', shop)).toMatchObject({
        cache: 'miss',
        canonical: 'https://shop.example/products',
      });
      await shells.idle();
      expect(await app.get('/products', shop)).toMatchObject({
        cache: 'hit',
        canonical: 'https://shop.example/products',
      });
    } finally {
      await app.server.close();
    }
  });
});

describe('behind a trusted proxy, Web requests (Hono, fetch handlers)', () => {
  it('pageCache keys a Web Request by its forwarded origin, as the page is rendered', async () => {
    const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
    const get = async (host: string) => {
      const request = new Request('http://app.internal:3000/products', {
        headers: { 'x-forwarded-host': host, 'x-forwarded-proto': 'https' },
      });
      const result = await pages.render(<OriginPage />, { request, trustProxy: true });
      return { cache: result.cache.status, canonical: canonicalOf(await result.text()) };
    };
    expect(await get('evil.example')).toEqual({
      cache: 'miss',
      canonical: 'https://evil.example/products',
    });
    await pages.idle();
    expect(await get('shop.example')).toEqual({
      cache: 'miss',
      canonical: 'https://shop.example/products',
    });
    await pages.idle();
    expect(await get('shop.example')).toEqual({
      cache: 'hit',
      canonical: 'https://shop.example/products',
    });
  });
});

describe('with query, a render for the cache sees only the parameters of the key', () => {
  // A page that read a parameter left out of the key would store the first visitor's value and
  // serve it to everyone asking for the same key.
  it('pageCache: a parameter outside the key never reaches the page, stored or not', async () => {
    const pages = pageCache({ store: memoryStore(), ttl: 60_000, query: ['page'] });
    const app = await serveOrigin(pages);
    try {
      const first = await app.get('/products?ref=%3Cb%3Eevil&page=2&page=3');
      expect(first).toMatchObject({ cache: 'miss', search: '?page=2&amp;page=3' });
      await pages.idle();
      expect(await app.get('/products?page=2&page=3')).toMatchObject({
        cache: 'hit',
        search: '?page=2&amp;page=3',
      });
      expect(await app.get('/products?utm_source=mail')).toMatchObject({
        cache: 'miss',
        search: '',
        canonical: 'http://app.internal:3000/products',
      });
    } finally {
      await app.server.close();
    }
  });

  it('partialCache: the shell and the resumed page see only the parameters of the key', async () => {
    const shells = partialCache({ store: memoryStore(), ttl: 60_000, query: ['page'] });
    const app = await serveOrigin(shells);
    try {
      const first = await app.get('/products?ref=evil&page=2');
      expect(first).toMatchObject({ cache: 'miss', search: '?page=2' });
      await shells.idle();
      expect(await app.get('/products?page=2&ref=other')).toMatchObject({
        cache: 'hit',
        search: '?page=2',
      });
    } finally {
      await app.server.close();
    }
  });
});
