import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import { parseCookie } from 'cookie';
import { KilnError } from '../shared/errors';
import type { RequestInfo } from '../shared/types';

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

/**
 * Options of `normalizeRequest`.
 *
 * @example
 * ```ts
 * import { type NormalizeOptions, normalizeRequest } from '@kiln/core';
 *
 * const options: NormalizeOptions = { trustProxy: true, report: (problem) => console.warn(problem) };
 * normalizeRequest(new Request('https://shop.test/cart'), options).url.host; // 'shop.test'
 * ```
 */
export interface NormalizeOptions {
  /**
   * Take the host and scheme from `X-Forwarded-Host` and `X-Forwarded-Proto` (first value)
   * when they pass the same strict rules as `Host`. Only for servers behind a proxy the app
   * trusts to set them. Default `false`.
   */
  readonly trustProxy?: boolean;
  /** Receives a problem found in the request (an invalid host or target); the request is still normalised. */
  readonly report?: (problem: KilnError) => void;
}

const REG_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;
const IPV6 = /^\[([0-9A-Fa-f:.]+)\]$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * The host of a `Host` (or `X-Forwarded-Host`) value, lower-cased, when the whole value is
 * `host[:port]` by a strict grammar: a DNS-style name or IPv4 address, or a bracketed IPv6
 * address, and a port from 0 to 65535. Anything else (`/`, `?`, `#`, `@`, spaces, a missing
 * bracket, an empty or too large port) gives `undefined`.
 *
 * @example
 * ```ts
 * import { parseHost } from '@kiln/core';
 *
 * parseHost('Shop.Test:8080'); // 'shop.test:8080'
 * parseHost('shop.test/admin#'); // undefined
 * ```
 */
export function parseHost(value: string | null | undefined): string | undefined {
  if (!value || value.length > 261) return undefined;
  let name = value;
  let port: string | undefined;
  const colon = value.lastIndexOf(':');
  if (colon !== -1 && !value.endsWith(']')) {
    name = value.slice(0, colon);
    port = value.slice(colon + 1);
    if (!PORT.test(port) || Number(port) > 65_535) return undefined;
  }
  const v6 = IPV6.exec(name);
  if (v6) {
    if (!isIPv6(v6[1] as string)) return undefined;
  } else if (!REG_NAME.test(name) || name.length > 254) {
    return undefined;
  }
  const host = port === undefined ? name : `${name}:${port}`;
  try {
    // The WHATWG parser has the last word (e.g. it refuses `1.2.3.999`); it also lower-cases.
    return new URL(`http://${host}/`).host;
  } catch {
    return undefined;
  }
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** What the WHATWG parser would rewrite in a path: dot segments (also `%2e`), backslashes, tabs, newlines, `#`. */
const REWRITTEN_PATH = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|[\\\t\n\r#]/i;

/**
 * The path and query of a request target as the server received it: an origin-form target
 * as it is, an absolute-form target's path and query. `undefined` for any other target, or a
 * path the URL parser would not keep as it is (dot segments, backslashes).
 */
function pathOfTarget(target: string | undefined): string | undefined {
  if (target === undefined || target.length === 0) return undefined;
  let path = target;
  if (!target.startsWith('/')) {
    if (!SCHEME.test(target)) return undefined;
    const authority = target.indexOf('//') + 2;
    const authorityEnd = target.slice(authority).search(/[/?#\\]/);
    if (authorityEnd === -1) return '/';
    // A fragment or a backslash in the authority: parsers disagree on where the path starts.
    if (/[#\\]/.test(target.charAt(authority + authorityEnd))) return undefined;
    path = target.slice(authority + authorityEnd);
    if (path.startsWith('?')) path = `/${path}`;
  }
  const query = path.indexOf('?');
  if (REWRITTEN_PATH.test(query === -1 ? path : path.slice(0, query))) return undefined;
  if (query !== -1 && /[#\t\n\r]/.test(path.slice(query))) return undefined;
  return path;
}

function firstValue(value: string | null): string | null {
  if (value === null) return null;
  const comma = value.indexOf(',');
  return (comma === -1 ? value : value.slice(0, comma)).trim();
}

/**
 * What a trusted proxy forwarded: the scheme of `X-Forwarded-Proto` when it is `http` or
 * `https` (another value is reported and ignored) and the raw `X-Forwarded-Host`, first values
 * each (the host is checked by the caller, as `Host` is).
 */
function forwarded(
  headers: Headers,
  options: NormalizeOptions,
): { protocol: string | undefined; host: string | undefined } {
  const proto = firstValue(headers.get('x-forwarded-proto'))?.toLowerCase();
  if (proto && proto !== 'http' && proto !== 'https') {
    reportProblem(
      options,
      'KILN_INVALID_HOST',
      `the X-Forwarded-Proto header ${JSON.stringify(proto.slice(0, 100))} is neither http nor https and is ignored; fix the proxy's configuration`,
    );
  }
  return {
    protocol: proto === 'http' || proto === 'https' ? `${proto}:` : undefined,
    host: firstValue(headers.get('x-forwarded-host')) || undefined,
  };
}

/**
 * The URL of a Node request. Its host is an HTTP/2 request's `:authority`, which replaces
 * `Host` there (RFC 9113, 8.3.1), else the `Host` header; with `trustProxy`, the forwarded
 * one. All by the same strict rule.
 */
function nodeUrl(
  target: string | undefined,
  headers: Headers,
  encrypted: boolean,
  options: NormalizeOptions | undefined,
  authority: string | null,
): URL {
  let protocol = encrypted ? 'https:' : 'http:';
  let hostValue = authority ?? headers.get('host');
  if (options?.trustProxy) {
    const proxy = forwarded(headers, options);
    protocol = proxy.protocol ?? protocol;
    hostValue = proxy.host ?? hostValue;
  }
  const host = strictHost(
    hostValue,
    options,
    (value) =>
      `the request's host ${value} is not host[:port] and is ignored; ctx.url uses localhost. Send a valid Host header (or, behind a trusted proxy, pass trustProxy: true)`,
  );
  const path = pathOfTarget(target);
  if (path === undefined) {
    reportProblem(
      options,
      'KILN_INVALID_TARGET',
      `the request target ${JSON.stringify((target ?? '').slice(0, 100))} is neither a path nor an absolute URL the URL parser keeps as it is (dot segments, backslashes); ctx.url uses the path /. Reject such requests before rendering`,
    );
  }
  try {
    return new URL(`${protocol}//${host}${path ?? '/'}`);
  } catch {
    return new URL(`${protocol}//${host}/`);
  }
}

/**
 * `value` as a host when it is a strict `host[:port]` (normalised), else `localhost`; a value
 * that is not is reported with `problem` (given the value, quoted and cut to 100 characters).
 */
function strictHost(
  value: string | null,
  options: NormalizeOptions | undefined,
  problem: (quoted: string) => string,
): string {
  const host = parseHost(value);
  if (host !== undefined) return host;
  if (value !== null) {
    reportProblem(options, 'KILN_INVALID_HOST', problem(JSON.stringify(value.slice(0, 100))));
  }
  return 'localhost';
}

/** A Web request's `url` with the scheme and host a trusted proxy forwarded, by the rules of a Node request's. */
function forwardedUrl(url: URL, headers: Headers, options: NormalizeOptions): URL {
  const proxy = forwarded(headers, options);
  if (proxy.protocol === undefined && proxy.host === undefined) return url;
  const host =
    proxy.host === undefined
      ? url.host
      : strictHost(
          proxy.host,
          options,
          (value) =>
            `the X-Forwarded-Host header ${value} is not host[:port] and is ignored; ctx.url uses localhost. Fix the proxy's configuration`,
        );
  // Built anew: the `host` setter would keep the internal port when the forwarded host has none.
  return new URL(`${proxy.protocol ?? url.protocol}//${host}${url.pathname}${url.search}`);
}

function reportProblem(
  options: NormalizeOptions | undefined,
  code: 'KILN_INVALID_HOST' | 'KILN_INVALID_TARGET',
  message: string,
): void {
  options?.report?.(new KilnError(code, message));
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
export function normalizeRequest(
  input: RequestInput | undefined,
  options?: NormalizeOptions,
): RequestInfo {
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
    if (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      parseHost(url.host) === undefined
    ) {
      reportProblem(
        options,
        'KILN_INVALID_HOST',
        `the request's host ${JSON.stringify(url.host.slice(0, 100))} is not host[:port] and is ignored; ctx.url uses localhost. Build the Request from a valid URL`,
      );
      url.host = 'localhost';
    }
    const headers = new Headers(input.headers);
    if (options?.trustProxy && (url.protocol === 'http:' || url.protocol === 'https:')) {
      url = forwardedUrl(url, headers, options);
    }
    return {
      url,
      method: input.method.toUpperCase(),
      headers,
      cookies: parseCookies(headers.get('cookie')),
    };
  }
  const raw = input.headers ?? {};
  // Pseudo-headers (HTTP/2) are not headers: `toWebHeaders` drops them.
  const headers = toWebHeaders(raw);
  const scheme = raw[':scheme'];
  const encrypted =
    scheme === 'https' ||
    (scheme !== 'http' &&
      (input.socket as { encrypted?: boolean } | undefined)?.encrypted === true);
  const authority = raw[':authority'];
  const url = nodeUrl(
    input.url,
    headers,
    encrypted,
    options,
    typeof authority === 'string' ? authority : null,
  );
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
