import type { IncomingMessage } from 'node:http';
import { parseCookie } from 'cookie';
import type { RequestInfo } from './types';

/** What `renderToHtml` accepts as `request`: a Web `Request`, a Node `IncomingMessage`, or nothing. */
export type RequestInput = Request | IncomingMessage;

function isWebRequest(input: RequestInput): input is Request {
  return typeof (input as Request).headers?.get === 'function';
}

function toWebHeaders(raw: IncomingMessage['headers']): Headers {
  const headers = new Headers();
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      try {
        headers.append(name, v);
      } catch {
        // A header the Fetch standard rejects (invalid name or value) is dropped, never thrown.
      }
    }
  }
  return headers;
}

function safeUrl(path: string | undefined, host: string | null, protocol: string): URL {
  const target = path?.startsWith('/') ? path : '/';
  for (const origin of host ? [`${protocol}//${host}`, 'http://localhost'] : ['http://localhost']) {
    try {
      return new URL(origin + target);
    } catch {
      // an invalid host header or path: try the next origin
    }
  }
  return new URL('http://localhost/');
}

/** Parses a `cookie` header; a malformed header yields the cookies that parse, never an error. */
export function parseCookies(header: string | null): Readonly<Record<string, string>> {
  const cookies: Record<string, string> = Object.create(null);
  if (!header) return cookies;
  let parsed: Record<string, string | undefined>;
  try {
    parsed = parseCookie(header);
  } catch {
    return cookies;
  }
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    if (value !== undefined && name.length > 0) cookies[name] = value;
  }
  return cookies;
}

/**
 * Normalises a Web `Request`, a Node `IncomingMessage` or nothing into the `RequestInfo`
 * the render context exposes. Never throws on malformed input.
 *
 * @example
 * ```ts
 * import { normalizeRequest } from '@kiln/core';
 *
 * const info = normalizeRequest(new Request('https://shop.test/cart', { headers: { cookie: 'user=ada' } }));
 * info.cookies.user; // 'ada'
 * ```
 */
export function normalizeRequest(input: RequestInput | undefined): RequestInfo {
  if (input === undefined) {
    return {
      url: new URL('http://localhost/'),
      method: 'GET',
      headers: new Headers(),
      cookies: Object.create(null),
    };
  }
  if (isWebRequest(input)) {
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      url = new URL('http://localhost/');
    }
    const headers = new Headers(input.headers);
    return {
      url,
      method: input.method.toUpperCase(),
      headers,
      cookies: parseCookies(headers.get('cookie')),
    };
  }
  const headers = toWebHeaders(input.headers ?? {});
  const encrypted = (input.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const url = safeUrl(input.url, headers.get('host'), encrypted ? 'https:' : 'http:');
  return {
    url,
    method: (input.method ?? 'GET').toUpperCase(),
    headers,
    cookies: parseCookies(headers.get('cookie')),
  };
}

/** The `user-agent` header of a Web or Node request, without normalising the whole request. */
export function userAgentOf(request: RequestInput | undefined): string | null {
  if (!request) return null;
  if (isWebRequest(request)) return request.headers.get('user-agent');
  const ua = request.headers?.['user-agent'];
  return typeof ua === 'string' ? ua : null;
}
