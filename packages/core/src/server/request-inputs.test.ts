import { describe, expect, it } from 'vitest';
import { normalizeRequest } from './request';
import { trackRequestInputs } from './request-inputs';

function tracked(headers: Record<string, string>) {
  const inputs = { headers: [] as string[], cookies: [] as string[] };
  const request = trackRequestInputs(
    normalizeRequest(new Request('http://shop.test/', { headers })),
    inputs,
  );
  return { request, inputs };
}

describe('trackRequestInputs', () => {
  it('notes each header and cookie read once, lower-cased, and answers as the request does', () => {
    const { request, inputs } = tracked({ 'Accept-Language': 'fr', cookie: 'theme=dark' });
    expect(request.headers.get('ACCEPT-LANGUAGE')).toBe('fr');
    expect(request.headers.has('x-missing')).toBe(false);
    expect(request.headers.get('accept-language')).toBe('fr');
    expect(request.cookies.theme).toBe('dark');
    expect('user' in request.cookies).toBe(false);
    expect(inputs).toEqual({
      headers: ['accept-language', 'x-missing'],
      cookies: ['theme', 'user'],
    });
  });

  it('notes * when every header or cookie is listed', () => {
    const { request, inputs } = tracked({ 'x-a': '1', cookie: 'a=1; b=2' });
    expect(Object.fromEntries(request.headers)).toMatchObject({ 'x-a': '1' });
    expect(Object.keys(request.cookies)).toEqual(['a', 'b']);
    expect(inputs.headers).toEqual(['*']);
    expect(inputs.cookies).toContain('*');
  });

  it('is still a Headers object for code that checks', () => {
    const { request, inputs } = tracked({ 'x-a': '1' });
    expect(request.headers instanceof Headers).toBe(true);
    expect(new Headers(request.headers).get('x-a')).toBe('1');
    expect(inputs.headers).toEqual(['*']);
  });
});
