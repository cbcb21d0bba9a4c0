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
