import type { RequestInfo, RequestInputs } from '@kiln/core';
import { isAbstractableNonce } from './nonce';
import type { RenderedPage } from './page-render';

/**
 * The page cache's policy: which requests may be served from the cache, the key of a request,
 * and whether a rendered response may be stored under it. Pure functions of the request, the
 * render and the cache's options.
 */
export interface PagePolicy {
  /** Request headers that are part of the default key, lower-cased. */
  readonly vary: readonly string[];
  /** The query parameters of the default key, in order; `undefined`: the whole query. */
  readonly query: readonly string[] | undefined;
  /** The app's key function, replacing the default key. */
  readonly key: ((request: RequestInfo) => string | undefined) | undefined;
  /** The app's request rule, replacing the default one. */
  readonly cacheable: ((request: RequestInfo) => boolean) | undefined;
}

/** The policy of a cache's options (`vary` lower-cased, `query` copied). */
export function pagePolicy(options: {
  readonly vary?: readonly string[] | undefined;
  readonly query?: readonly string[] | undefined;
  readonly key?: ((request: RequestInfo) => string | undefined) | undefined;
  readonly cacheable?: ((request: RequestInfo) => boolean) | undefined;
}): PagePolicy {
  return {
    vary: (options.vary ?? []).map((name) => name.toLowerCase()),
    query: options.query ? [...options.query] : undefined,
    key: options.key,
    cacheable: options.cacheable,
  };
}

/**
 * The key of `request` (without the namespace), or why it has none. Default: path and the
 * kept query, the host, the scheme, then the `vary` headers, each on its own line. The host
 * and scheme are those of `ctx.url` (forwarded ones with `trustProxy`): a page that writes
 * absolute URLs from them is stored for that origin only.
 */
export function keyOf(
  policy: PagePolicy,
  request: RequestInfo,
): { key: string } | { invalid: string } {
  if (policy.key) {
    const key = policy.key(request);
    return key === undefined ? { invalid: 'key() returned undefined' } : { key };
  }
  const invalid = invalidKeyPart(request, policy.vary);
  if (invalid !== undefined) return { invalid };
  const { url } = request;
  let key = `${url.pathname}${searchOf(policy, url)}\nhost=${url.host.toLowerCase()}\nscheme=${url.protocol.slice(0, -1)}`;
  for (const name of policy.vary) key += `\n${name}=${request.headers.get(name) ?? ''}`;
  return { key };
}

/**
 * `request` as a render for the cache sees it, when that differs: with `query` (and the
 * default key), its URL keeps only the listed parameters, those of the key, so a parameter the
 * key leaves out (a `ref` or `utm_source` an attacker chose) cannot reach a stored page.
 * `undefined` when the request is seen whole.
 */
export function keyedView(policy: PagePolicy, request: RequestInfo): RequestInfo | undefined {
  if (policy.key || !policy.query) return undefined;
  const search = searchOf(policy, request.url);
  if (search === request.url.search) return undefined;
  const url = new URL(request.url);
  url.search = search;
  return { url, method: request.method, headers: request.headers, cookies: request.cookies };
}

function searchOf(policy: PagePolicy, url: URL): string {
  if (!policy.query) return url.search;
  const kept = new URLSearchParams();
  for (const name of policy.query)
    for (const value of url.searchParams.getAll(name)) kept.append(name, value);
  const search = kept.toString();
  return search === '' ? '' : `?${search}`;
}

/**
 * Why `request` may not be served from nor stored in the cache, or `undefined` when it may.
 * Default: a `GET` with no `authorization` and no `cookie` header.
 */
export function bypassReason(policy: PagePolicy, request: RequestInfo): string | undefined {
  if (policy.cacheable) return policy.cacheable(request) ? undefined : 'cacheable() returned false';
  if (request.method !== 'GET') return `method ${request.method}`;
  if (request.headers.has('authorization')) return 'authorization header';
  if (request.headers.has('cookie')) return 'cookie header';
  return undefined;
}

/**
 * The request inputs every request sharing a key agrees on: the headers the key read (the
 * `vary` headers, or what `key()` read) and the cookies the request rule or the key read.
 * The default rule lets no request with a cookie or an authorization header through, so
 * those are absent for all of them.
 */
export function decidedInputs(
  policy: PagePolicy,
  ruled: RequestInputs,
  held: RequestInputs,
): RequestInputs {
  return policy.cacheable
    ? { headers: held.headers, cookies: [...ruled.cookies, ...held.cookies] }
    : { headers: [...held.headers, 'cookie', 'authorization'], cookies: ['*'] };
}

/**
 * Why a page whose render read `read` may not be stored under its key, if so: it read a
 * request header or cookie that requests sharing the key may not agree on. The default key
 * holds the host.
 */
function unkeyedInput(
  policy: PagePolicy,
  read: RequestInputs,
  decided: RequestInputs,
): string | undefined {
  const allHeaders = decided.headers.includes('*');
  for (const name of read.headers) {
    if (allHeaders || decided.headers.includes(name)) continue;
    if (name === 'host' && !policy.key) continue;
    return name === '*'
      ? 'the render listed every request header (read only the ones you name in pageCache({ vary }))'
      : `the render read the request header ${name}, which the key does not hold (add it to pageCache({ vary }), or stop reading it, e.g. name the headers in forwardHeaders(ctx, names))`;
  }
  if (allHeaders || decided.headers.includes('cookie') || decided.cookies.includes('*')) {
    return undefined;
  }
  for (const name of read.cookies) {
    if (decided.cookies.includes(name)) continue;
    return `the render read the cookie ${name}, which neither the key nor cacheable() looks at (let cacheable() refuse requests that have it, or stop reading it)`;
  }
  return undefined;
}

/**
 * Why a response may not be shared between visitors, whatever rendered it (a page or a shell),
 * or `undefined`: a status other than 200, a cookie set, or a `cache-control` that forbids
 * sharing (`private`, `no-store`, `no-cache`, or a zero `s-maxage`/`max-age`).
 */
export function unshareableResponse(status: number, headers: Headers): string | undefined {
  if (status !== 200) return `status ${status}`;
  if (headers.getSetCookie().length > 0 || headers.has('set-cookie')) return 'set-cookie header';
  const cacheControl = headers.get('cache-control')?.toLowerCase() ?? '';
  if (/(^|[\s,])(private|no-store|no-cache)([\s,=]|$)/.test(cacheControl)) {
    return `cache-control: ${cacheControl}`;
  }
  const shared = /(?:^|[\s,])s-maxage\s*=\s*"?(\d+)/.exec(cacheControl);
  const maxAge = /(?:^|[\s,])max-age\s*=\s*"?(\d+)/.exec(cacheControl);
  if ((shared ?? maxAge) && Number((shared ?? maxAge)![1]) === 0) {
    return `cache-control: ${cacheControl}`;
  }
  return undefined;
}

/**
 * Why a rendered page may not be stored, or `undefined` when it may: a redirect, an incomplete
 * render, a status other than 200, a cookie set, a `cache-control` or `vary` that forbids
 * sharing, request input the key does not hold, the page's own `noStore()`/`maxAge(0)`, or a
 * nonce too short to find safely in the HTML.
 */
export function notStorableReason(policy: PagePolicy, rendered: RenderedPage): string | undefined {
  const { result, control, nonce } = rendered;
  if (result.redirect) return 'redirect';
  if (rendered.incomplete) return `incomplete render (${rendered.incomplete})`;
  const unshareable = unshareableResponse(result.status, result.headers);
  if (unshareable) return unshareable;
  const varies = result.headers.get('vary');
  if (varies !== null) {
    for (const part of varies.split(',')) {
      const name = part.trim().toLowerCase();
      if (name === '') continue;
      if (name === '*' || (!policy.vary.includes(name) && !(name === 'host' && !policy.key))) {
        return `vary: ${varies} (add the header to pageCache({ vary }) or build the key)`;
      }
    }
  }
  const unkeyed = unkeyedInput(policy, result.diagnostics.inputs, rendered.decided);
  if (unkeyed) return unkeyed;
  if (control.noStoreReason) return `noStore: ${control.noStoreReason}`;
  if (control.maxAgeMs !== undefined && control.maxAgeMs <= 0) return 'maxAge(0)';
  if (nonce !== undefined && !isAbstractableNonce(nonce)) {
    return 'the nonce is not base64 of at least 16 characters';
  }
  return undefined;
}

/** Longest path and query, host, and `vary` header value the default key accepts. */
const MAX_TARGET = 2048;
const MAX_HOST = 255;
const MAX_VARY_VALUE = 1024;
const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
/** `host[:port]`: a DNS name or IPv4 address, or a bracketed IPv6 address, then an optional port. */
const HOST_PATTERN = new RegExp(
  `^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::[0-9]{1,5})?$`,
  'i',
);
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why the parts of the default key of `request` cannot be trusted, or `undefined` when they
 * can: the host must be a strict `host[:port]` (the raw `Host` header too, when there is one),
 * and no part may hold control characters or be over-long.
 */
export function invalidKeyPart(request: RequestInfo, vary: readonly string[]): string | undefined {
  const host = request.url.host;
  if (host.length > MAX_HOST || !HOST_PATTERN.test(host)) return 'invalid key: host';
  const raw = request.headers.get('host');
  if (raw !== null && (raw.length > MAX_HOST || !HOST_PATTERN.test(raw))) {
    return 'invalid key: host header is not host[:port]';
  }
  const target = request.url.pathname + request.url.search;
  if (target.length > MAX_TARGET)
    return `invalid key: path and query over ${MAX_TARGET} characters`;
  if (CONTROL.test(target)) return 'invalid key: control character in the path or query';
  for (const name of vary) {
    const value = request.headers.get(name) ?? '';
    if (value.length > MAX_VARY_VALUE) {
      return `invalid key: ${name} header over ${MAX_VARY_VALUE} characters`;
    }
    if (CONTROL.test(value)) return `invalid key: control character in the ${name} header`;
  }
  return undefined;
}
