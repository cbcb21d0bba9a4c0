import type { IncomingMessage } from 'node:http';
import type { RenderOptions, RequestInfo } from '@kiln/core';

/** Request headers that carry a visitor's credentials. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'cookie',
  'authorization',
  'proxy-authorization',
];

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
 * `input` with `url` as its target: the request a render for the cache is given when the key
 * keeps only part of the query (`url` holds that part). Its headers, method and, for a Node
 * request, the connection it came on stay the same, so a visitor who leaves still aborts the
 * render.
 */
export function withUrl(
  input: NonNullable<RenderOptions['request']>,
  url: URL,
): NonNullable<RenderOptions['request']> {
  if (typeof (input as Request).headers?.get === 'function') {
    const web = input as Request;
    return new Request(url, { method: web.method, headers: web.headers, signal: web.signal });
  }
  const node = input as IncomingMessage;
  // What Kiln reads of a Node request: the target, the method, the headers and the socket.
  return {
    url: `${url.pathname}${url.search}`,
    method: node.method,
    headers: node.headers,
    socket: node.socket,
  } as IncomingMessage;
}

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
