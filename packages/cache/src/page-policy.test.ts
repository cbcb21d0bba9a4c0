import { normalizeRequest } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { bypassReason, keyOf, pagePolicy } from './page-policy';

const request = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
  normalizeRequest(new Request(url, { headers, method }));

describe('page cache policy', () => {
  it('keys path, kept query, host and vary headers; drops unlisted parameters', () => {
    const policy = pagePolicy({ vary: ['Accept-Language'], query: ['page'] });
    expect(
      keyOf(policy, request('http://Shop.test/list?utm=x&page=2', { 'accept-language': 'fr' })),
    ).toEqual({ key: '/list?page=2\nhost=shop.test\nscheme=http\naccept-language=fr' });
    expect(keyOf(pagePolicy({}), request('http://shop.test/a?b=1'))).toEqual({
      key: '/a?b=1\nhost=shop.test\nscheme=http',
    });
  });

  it('refuses hostile key parts and an app key that declines', () => {
    const vary = pagePolicy({ vary: ['x-v'] });
    expect(keyOf(vary, request('http://shop.test/', { 'x-v': 'a'.repeat(2000) }))).toEqual({
      invalid: 'invalid key: x-v header over 1024 characters',
    });
    expect(keyOf(pagePolicy({}), request('http://shop.test/', { host: 'a b' }))).toMatchObject({
      invalid: expect.stringContaining('host'),
    });
    expect(keyOf(pagePolicy({ key: () => undefined }), request('http://shop.test/'))).toEqual({
      invalid: 'key() returned undefined',
    });
  });

  it('bypasses other methods and credentials by default, or follows the app rule', () => {
    const policy = pagePolicy({});
    expect(bypassReason(policy, request('http://shop.test/'))).toBeUndefined();
    expect(bypassReason(policy, request('http://shop.test/', {}, 'POST'))).toBe('method POST');
    expect(bypassReason(policy, request('http://shop.test/', { cookie: 'a=1' }))).toBe(
      'cookie header',
    );
    expect(bypassReason(policy, request('http://shop.test/', { authorization: 'x' }))).toBe(
      'authorization header',
    );
    const open = pagePolicy({ cacheable: () => true });
    expect(bypassReason(open, request('http://shop.test/', { cookie: 'a=1' }))).toBeUndefined();
  });
});
