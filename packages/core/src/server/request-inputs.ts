import type { RequestInfo, RequestInputs } from '../shared/types';

/** Adds `name` to `names` once. */
function note(names: string[], name: string): void {
  if (!names.includes(name)) names.push(name);
}

const WHOLE_HEADERS = new Set<PropertyKey>([
  'entries',
  'keys',
  'values',
  'forEach',
  Symbol.iterator,
]);

/**
 * A view of `headers` that notes in `inputs.headers` every header the app reads through it
 * (`get`, `has`; `*` when it lists them all). Everything else passes through unchanged.
 */
function trackHeaders(headers: Headers, inputs: RequestInputs): Headers {
  const names = inputs.headers as string[];
  return new Proxy(headers, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'get' || property === 'has') {
        return (name: string) => {
          note(names, String(name).toLowerCase());
          return value.call(target, name);
        };
      }
      if (property === 'getSetCookie') {
        return () => {
          note(names, 'set-cookie');
          return value.call(target);
        };
      }
      if (WHOLE_HEADERS.has(property)) {
        return (...args: unknown[]) => {
          note(names, '*');
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}

/** A view of `cookies` that notes in `inputs.cookies` every cookie read (`*` when listed). */
function trackCookies(
  cookies: Readonly<Record<string, string>>,
  inputs: RequestInputs,
): Readonly<Record<string, string>> {
  const names = inputs.cookies as string[];
  return new Proxy(cookies, {
    get(target, property, receiver) {
      if (typeof property === 'string') note(names, property);
      return Reflect.get(target, property, receiver);
    },
    has(target, property) {
      if (typeof property === 'string') note(names, property);
      return Reflect.has(target, property);
    },
    ownKeys(target) {
      note(names, '*');
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, property) {
      if (typeof property === 'string') note(names, property);
      return Reflect.getOwnPropertyDescriptor(target, property);
    },
  });
}

/**
 * A view of `request` whose header and cookie reads are noted in `inputs` (lower-case header
 * names, cookie names, `*` when all are listed). The render context gives the app this view,
 * so `RenderResult.diagnostics.inputs` says what a page depends on; a cache can wrap its own
 * request rule and key the same way to know which inputs they decided.
 *
 * @example
 * ```ts
 * import { normalizeRequest, trackRequestInputs } from '@kiln/core';
 *
 * const inputs = { headers: [] as string[], cookies: [] as string[] };
 * const request = trackRequestInputs(normalizeRequest(new Request('http://shop.test/')), inputs);
 * request.headers.get('Accept-Language');
 * inputs.headers; // ['accept-language']
 * ```
 */
export function trackRequestInputs(request: RequestInfo, inputs: RequestInputs): RequestInfo {
  return {
    url: request.url,
    method: request.method,
    headers: trackHeaders(request.headers, inputs),
    cookies: trackCookies(request.cookies, inputs),
  };
}
