import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { normalizeRequest, parseCookies, parseHost } from './request';

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

describe('host and request target', () => {
  function urlOf(target: string, headers: Record<string, string>, trustProxy = false) {
    const problems: string[] = [];
    const info = normalizeRequest(nodeRequest(target, headers), {
      trustProxy,
      report: (problem) => problems.push(problem.code),
    });
    return { url: info.url, problems };
  }

  test('a host with a path, query, fragment or credentials cannot change the path', () => {
    for (const host of [
      'shop.test/admin#',
      'shop.test/admin?',
      'x@shop.test',
      'shop.test?a',
      'a b',
    ]) {
      const { url, problems } = urlOf('/products/x?y=1', { host });
      expect(url.pathname, host).toBe('/products/x');
      expect(url.search, host).toBe('?y=1');
      expect(url.host, host).toBe('localhost');
      expect(problems, host).toEqual(['KILN_INVALID_HOST']);
    }
  });

  test('an absolute-form target keeps its path and query; the host still comes from Host', () => {
    const { url, problems } = urlOf('http://evil.test/products/evil?q=1', { host: 'shop.test' });
    expect(url.href).toBe('http://shop.test/products/evil?q=1');
    expect(problems).toEqual([]);
  });

  test('strict host grammar: names, IPv4, bracketed IPv6, ports in range', () => {
    expect(parseHost('Shop.Test:8080')).toBe('shop.test:8080');
    expect(parseHost('127.0.0.1')).toBe('127.0.0.1');
    expect(parseHost('[::1]:3000')).toBe('[::1]:3000');
    for (const bad of [
      '',
      'shop.test:',
      'shop.test:65536',
      '[::1',
      '[zz::1]',
      '1.2.3.999',
      'a..b',
      'shop.test:80:80',
    ]) {
      expect(parseHost(bad), bad).toBeUndefined();
    }
  });

  test('HTTP/2: :authority replaces Host and :scheme gives the scheme; pseudo-headers are not headers', () => {
    const info = normalizeRequest(
      nodeRequest('/a?b=1', {
        ':authority': 'Shop.Test:8443',
        ':scheme': 'https',
        ':method': 'GET',
        ':path': '/a?b=1',
        host: 'other.test',
        'user-agent': 'h2',
      }),
    );
    expect(info.url.href).toBe('https://shop.test:8443/a?b=1');
    expect([...info.headers.keys()].sort()).toEqual(['host', 'user-agent']);
    expect(urlOf('/a', { ':authority': 'shop.test/admin#' }).url.href).toBe('http://localhost/a');
    expect(urlOf('/a', { ':authority': 'shop.test', ':scheme': 'ftp' }).url.href).toBe(
      'http://shop.test/a',
    );
  });

  test('X-Forwarded-Host and -Proto only with trustProxy, and only when valid', () => {
    const headers = {
      host: 'internal:3000',
      'x-forwarded-host': 'shop.test',
      'x-forwarded-proto': 'https',
    };
    expect(urlOf('/a', headers).url.href).toBe('http://internal:3000/a');
    expect(urlOf('/a', headers, true).url.href).toBe('https://shop.test/a');
    const bad = urlOf(
      '/a',
      {
        host: 'internal',
        'x-forwarded-host': 'shop.test/admin#',
        'x-forwarded-proto': 'javascript',
      },
      true,
    );
    expect(bad.url.href).toBe('http://localhost/a');
    expect(bad.problems.sort()).toEqual(['KILN_INVALID_HOST', 'KILN_INVALID_HOST']);
  });

  test('a Web Request takes X-Forwarded-Host and -Proto by the same rules, only with trustProxy', () => {
    const web = (headers: Record<string, string>, trustProxy: boolean) => {
      const problems: string[] = [];
      const info = normalizeRequest(new Request('http://internal:3000/a/b?c=1', { headers }), {
        trustProxy,
        report: (problem) => problems.push(problem.code),
      });
      return { href: info.url.href, problems };
    };
    const headers = { 'x-forwarded-host': 'Shop.Test', 'x-forwarded-proto': 'https' };
    expect(web(headers, false)).toEqual({ href: 'http://internal:3000/a/b?c=1', problems: [] });
    // the internal port does not stay on the forwarded host
    expect(web(headers, true)).toEqual({ href: 'https://shop.test/a/b?c=1', problems: [] });
    expect(web({ 'x-forwarded-proto': 'https, http' }, true).href).toBe(
      'https://internal:3000/a/b?c=1',
    );
    expect(
      web({ 'x-forwarded-host': 'shop.test:8443, evil.test', 'x-forwarded-proto': 'http' }, true)
        .href,
    ).toBe('http://shop.test:8443/a/b?c=1');
    const bad = web(
      { 'x-forwarded-host': 'shop.test/admin#', 'x-forwarded-proto': 'javascript' },
      true,
    );
    expect(bad.href).toBe('http://localhost/a/b?c=1');
    expect(bad.problems.sort()).toEqual(['KILN_INVALID_HOST', 'KILN_INVALID_HOST']);
  });

  test('a target the URL parser would rewrite (dot segments, backslashes) gives / with a problem', () => {
    for (const target of [
      '/public/../admin',
      '/public/%2e%2E/admin',
      '/a\\admin',
      '/./x',
      'admin',
      'http://a#/admin',
      'http://a\\admin',
    ]) {
      const { url, problems } = urlOf(target, { host: 'shop.test' });
      expect(url.pathname, target).toBe('/');
      expect(problems, target).toEqual(['KILN_INVALID_TARGET']);
    }
  });

  test('a Web Request keeps its URL; its host passes the same grammar', () => {
    const info = normalizeRequest(new Request('https://shop.test:8443/a/b?c=%20'));
    expect(info.url.href).toBe('https://shop.test:8443/a/b?c=%20');
    const problems: string[] = [];
    const odd = normalizeRequest(new Request('http://a*b!c/p?q'), {
      report: (problem) => problems.push(problem.code),
    });
    expect(odd.url.href).toBe('http://localhost/p?q');
    expect(problems).toEqual(['KILN_INVALID_HOST']);
  });

  // The query alphabet leaves out `'`, which the URL standard writes as `%27` in a query (same value once decoded).
  test('property: the pathname and search are the target the server routed, whatever the Host', () => {
    const segment = fc
      .stringMatching(/^[A-Za-z0-9\-_~!$&'()*+,;=:@%.]{1,12}$/)
      .filter((s) => !/^(?:\.|%2e){1,2}$/i.test(s));
    const path = fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
    const query = fc.option(fc.stringMatching(/^[A-Za-z0-9\-_~!$&()*+,;=:@%./?]{0,20}$/), {
      nil: undefined,
    });
    const host = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        'shop.test/admin#',
        'shop.test?x=',
        'a@b',
        '[::1]',
        'shop.test:8080',
        'evil.test/',
      ),
    );
    const absolute = fc.boolean();
    fc.assert(
      fc.property(path, query, host, absolute, (p, q, h, abs) => {
        const pathAndQuery = q === undefined ? p : `${p}?${q}`;
        const target = abs ? `http://other.test${pathAndQuery}` : pathAndQuery;
        const { url } = urlOf(target, { host: h });
        expect(url.pathname).toBe(p);
        expect(url.search).toBe(q === undefined || q === '' ? '' : `?${q}`);
      }),
    );
  });

  test('property: with trustProxy, a Node request and a Web Request give the same strict URL, whatever is forwarded', () => {
    const forwardedHost = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('shop.test/admin#', 'a@b', 'shop.test, evil.test', '[::1]:8443', 'x:99999'),
    );
    const proto = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('https', 'HTTP', 'ftp'));
    fc.assert(
      fc.property(forwardedHost, proto, (xfh, xfp) => {
        const headers = new Headers();
        try {
          headers.set('x-forwarded-host', xfh);
          headers.set('x-forwarded-proto', xfp);
        } catch {
          return; // a value no HTTP request can carry
        }
        const options = { trustProxy: true };
        const web = normalizeRequest(
          new Request('http://internal:3000/p/q?r=1', { headers }),
          options,
        ).url;
        const node = normalizeRequest(
          nodeRequest('/p/q?r=1', { host: 'internal:3000', ...Object.fromEntries(headers) }),
          options,
        ).url;
        expect(web.href).toBe(node.href);
        expect(`${web.pathname}${web.search}`).toBe('/p/q?r=1');
        expect(['http:', 'https:']).toContain(web.protocol);
        expect(web.host === 'localhost' || parseHost(web.host) === web.host).toBe(true);
      }),
    );
  });
});
