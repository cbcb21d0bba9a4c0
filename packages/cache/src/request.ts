import type { RequestInfo } from '@kiln/core';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'expect',
]);

/**
 * A detached copy of an anonymous request, for a background re-render that must outlive the
 * visitor's connection (it carries no socket to close and no signal to abort).
 */
export function detachedRequest(request: RequestInfo): Request {
  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers.set(name, value);
  });
  return new Request(request.url, { method: 'GET', headers });
}

/**
 * Whether the raw `cookie` header of `request` names the cookie `name`, whatever its value
 * and however often it appears. Use it in `cacheable` rules instead of `request.cookies`,
 * which keeps one value per name: with `session=; session=x` that value may be empty and the
 * visitor would look anonymous.
 *
 * @example
 * ```ts
 * import { hasCookie, memoryStore, pageCache } from '@kiln/cache';
 *
 * const pages = pageCache({
 *   store: memoryStore(),
 *   ttl: 60_000,
 *   cacheable: (request) =>
 *     request.method === 'GET' &&
 *     !request.headers.has('authorization') &&
 *     !hasCookie(request, 'session'),
 * });
 * ```
 */
export function hasCookie(
  request: { readonly headers: Headers; readonly cookies?: Readonly<Record<string, string>> },
  name: string,
): boolean {
  // Asking the parsed cookies first also tells the page cache which cookie the rule decided.
  if (request.cookies !== undefined && name in request.cookies) return true;
  const header = request.headers.get('cookie');
  if (header === null) return false;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    const key = (equals === -1 ? pair : pair.slice(0, equals)).trim();
    if (key === name) return true;
  }
  return false;
}
