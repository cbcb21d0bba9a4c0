import type { IncomingMessage } from 'node:http';
import { describe, expect, test } from 'vitest';
import { normalizeRequest, parseCookies } from './request';

function nodeRequest(url: string, headers: Record<string, string | string[]>): IncomingMessage {
  return { url, method: 'post', headers, socket: {} } as unknown as IncomingMessage;
}

describe('normalizeRequest', () => {
  test('a Web Request', () => {
    const info = normalizeRequest(
      new Request('https://shop.test/a?b=1', { method: 'PUT', headers: { cookie: 'x=1; y=%20' } }),
    );
    expect(info.url.href).toBe('https://shop.test/a?b=1');
    expect(info.method).toBe('PUT');
    expect(info.cookies).toEqual({ x: '1', y: ' ' });
  });

  test('a Node request: host header, upper-case method, repeated headers', () => {
    const info = normalizeRequest(
      nodeRequest('/p?q=1', { host: 'Shop.Test:8080', 'x-many': ['a', 'b'] }),
    );
    expect(info.url.href).toBe('http://shop.test:8080/p?q=1');
    expect(info.method).toBe('POST');
    expect(info.headers.get('x-many')).toBe('a, b');
  });

  test('hostile input never throws', () => {
    const cases: [string, Record<string, string>][] = [
      ['//evil.test/x', { host: 'shop.test' }],
      ['/ok', { host: 'bad host/with space' }],
      ['*', {}],
      ['/%E0%A4%A', { host: '[::1' }],
      [`/${'a'.repeat(20_000)}`, { cookie: '%%%; ==; a="; b=\u0000' }],
    ];
    for (const [url, headers] of cases) {
      const info = normalizeRequest(nodeRequest(url, headers));
      expect(info.url).toBeInstanceOf(URL);
    }
    expect(normalizeRequest(nodeRequest('//evil.test/x', { host: 'shop.test' })).url.host).toBe(
      'shop.test',
    );
    expect(normalizeRequest(nodeRequest('/ok', { host: 'bad host/with space' })).url.host).toBe(
      'localhost',
    );
  });

  test('no request: localhost defaults', () => {
    const info = normalizeRequest(undefined);
    expect(info.url.href).toBe('http://localhost/');
    expect(info.method).toBe('GET');
  });
});

describe('parseCookies', () => {
  test('keeps what parses, never throws, no prototype pollution', () => {
    const cookies = parseCookies('__proto__=x; constructor=y; ok=1; bad=%E0');
    expect(Object.getPrototypeOf(cookies)).toBeNull();
    expect(cookies.ok).toBe('1');
    expect(cookies.bad).toBe('%E0');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(parseCookies(null)).toEqual({});
  });
});
