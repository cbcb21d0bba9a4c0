/**
 * The shop rendered by Kiln: `renderToHtml` from `@kiln/core` with the `apollo()` and
 * `emotion()` plugins, in the same HTML template as the hand-rolled pipeline.
 */

import { apollo } from '@kiln/apollo';
import type { RenderMode, RenderResult } from '@kiln/core';
import { renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { makeClient, pageOf, type ShopRequest, type Variant } from './shop/index';
import { EMOTION_KEY } from './shop/providers';

/** The page template Kiln renders into: the hand-rolled pipeline's document, with markers. */
export const SHOP_TEMPLATE: string =
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"/>' +
  '<title>Kiln Pottery</title><!--app-head--></head><body><div id="root"><!--app-html--></div>' +
  '<script type="module" src="/assets/client.js"></script></body></html>';

/** One Kiln render of the shop. */
export interface KilnShopRequest extends ShopRequest {
  /** Which page. */
  variant: Variant;
  /** `buffer` (complete HTML when everything is ready) or `stream`. */
  mode: Exclude<RenderMode, 'auto'>;
  /** The incoming request; default: a `Request` to `/` carrying the `user` cookie. */
  request?: Request | import('node:http').IncomingMessage;
  /** `apollo({ directResults })`; default `true` (the plugin's default). */
  directResults?: boolean;
}

/** A Web `Request` to the shop for `user` (a guest when undefined). */
export function shopRequest(user: string | undefined): Request {
  const headers = new Headers({ 'user-agent': 'Mozilla/5.0 (kiln-benchmarks)' });
  if (user) headers.set('cookie', `user=${encodeURIComponent(user)}`);
  return new Request('http://localhost/', { headers });
}

/**
 * Renders the shop with Kiln. The Apollo client is made per request from the request's `user`
 * cookie, like a real server would.
 *
 * @example
 * ```ts
 * const result = await renderShopWithKiln({ schema, user: 'ada', variant: 'query', mode: 'buffer' });
 * const html = await result.text();
 * ```
 */
export function renderShopWithKiln(request: KilnShopRequest): Promise<RenderResult> {
  const { schema, onOperation, cache } = request;
  return renderToHtml(pageOf(request.variant), {
    request: request.request ?? shopRequest(request.user),
    mode: request.mode,
    template: SHOP_TEMPLATE,
    plugins: [
      apollo({
        makeClient: (ctx) => makeClient({ schema, user: ctx.cookies.user, onOperation, cache }),
        directResults: request.directResults ?? true,
      }),
      emotion({ key: EMOTION_KEY }),
    ],
  });
}

/** Renders the shop with Kiln and returns the whole document. */
export async function kilnShopHtml(request: KilnShopRequest): Promise<string> {
  const result = await renderShopWithKiln(request);
  return result.text();
}
