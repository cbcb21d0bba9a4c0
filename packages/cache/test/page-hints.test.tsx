import { listen } from '@kiln/test-utils';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../src/memory-store';
import { type PageCacheOptions, pageCache } from '../src/page-cache';
import { hasCookie } from '../src/request';
import { appState, handler } from './fixtures/app';

async function serve(options: Partial<PageCacheOptions> = {}) {
  const store = memoryStore();
  const state = appState();
  const pages = pageCache({ store, ttl: 60_000, ...options });
  const server = await listen(handler(pages, state));
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(server.url + path, { headers });
    const body = await response.text();
    await pages.idle();
    return { cache: response.headers.get('x-kiln-cache'), body };
  };
  return { pages, store, state, server, get };
}

const pageOf = (body: string) => /id="page">(.*?)</.exec(body)?.[1];

describe('pageCache: hints from the request and the response', () => {
  it('treats a duplicated cookie name as present with hasCookie', async () => {
    expect(
      hasCookie(
        new Request('http://s.test', { headers: { cookie: 'session=; session=x' } }),
        'session',
      ),
    ).toBe(true);
    expect(
      hasCookie(new Request('http://s.test', { headers: { cookie: 'a=1; session' } }), 'session'),
    ).toBe(true);
    expect(
      hasCookie(
        new Request('http://s.test', { headers: { cookie: 'xsession=1; a=session' } }),
        'session',
      ),
    ).toBe(false);
    const app = await serve({
      // The page reads the user cookie: the rule must decide it too, or nothing is stored.
      cacheable: (request) =>
        request.method === 'GET' && !hasCookie(request, 'session') && !hasCookie(request, 'user'),
    });
    try {
      expect((await app.get('/', { cookie: 'session=; session=alice' })).cache).toBe('bypass');
      expect((await app.get('/', { cookie: 'theme=dark' })).cache).toBe('miss');
      expect(app.store.size).toBe(1);
    } finally {
      await app.server.close();
    }
  });

  it('does not store a response with max-age=0, s-maxage=0 or a Vary the key does not hold', async () => {
    const app = await serve({ vary: ['accept-language'] });
    try {
      for (const query of [
        'cc=max-age%3D0',
        'cc=public%2C%20s-maxage%3D0%2C%20max-age%3D60',
        'vary=cookie',
        'vary=*',
        'vary=accept-language%2C%20user-agent',
      ]) {
        expect((await app.get(`/?${query}`)).cache, query).toBe('miss');
        expect((await app.get(`/?${query}`)).cache, query).toBe('miss');
      }
      expect(app.store.size).toBe(0);
      await app.get('/?vary=accept-language&cc=max-age%3D0%2C%20s-maxage%3D60');
      expect(
        (await app.get('/?vary=accept-language&cc=max-age%3D0%2C%20s-maxage%3D60')).cache,
      ).toBe('hit');
    } finally {
      await app.server.close();
    }
  });

  it('keeps the crawler and browser variants of a page that asks ctx.isBot apart', async () => {
    const app = await serve();
    const crawler = { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' };
    const person = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Firefox/140.0' };
    const audience = (body: string) => /id="audience">(.*?)</.exec(body)?.[1];
    try {
      const first = await app.get('/seo', crawler);
      expect([first.cache, audience(first.body)]).toEqual(['miss', 'crawler']);
      const browser = await app.get('/seo', person);
      expect([browser.cache, audience(browser.body)]).toEqual(['miss', 'person']);
      for (let i = 0; i < 2; i++) {
        const again = await app.get('/seo', person);
        expect([again.cache, audience(again.body)]).toEqual(['hit', 'person']);
        const bot = await app.get('/seo', crawler);
        expect([bot.cache, audience(bot.body)]).toEqual(['hit', 'crawler']);
      }
      expect(app.state.renders).toBe(2);
      expect(await app.pages.invalidate({ prefix: '/seo' })).toBe(3);
      // A page that never asks is one entry for everyone.
      await app.get('/', crawler);
      expect((await app.get('/', person)).cache).toBe('hit');
    } finally {
      await app.server.close();
    }
  });

  it('keys only the listed query parameters', async () => {
    const app = await serve({ query: ['page'] });
    try {
      expect((await app.get('/list?page=2&utm_source=a')).cache).toBe('miss');
      const again = await app.get('/list?utm_source=b&page=2&x=1');
      expect(again.cache).toBe('hit');
      expect(pageOf(again.body)).toBe('2');
      const other = await app.get('/list?page=3');
      expect(other.cache).toBe('miss');
      expect(pageOf(other.body)).toBe('3');
      expect((await app.get('/list?utm_source=c')).cache).toBe('miss');
      expect(app.store.size).toBe(3);
    } finally {
      await app.server.close();
    }
  });
});
