import { isbot } from 'isbot';
import type { RenderOptions } from '../shared/types';
import { userAgentOf } from './request';

/**
 * Whether a request comes from a crawler: the `isBot` option when given (a fixed answer or a
 * test of the user agent), else the `isbot` package's list. It is the test behind
 * `ctx.isBot`; a cache uses it to tell the crawler and browser variants of a page apart.
 *
 * @example
 * ```ts
 * import { detectBot } from '@kiln/core';
 *
 * detectBot('Googlebot/2.1 (+http://www.google.com/bot.html)', undefined); // true
 * detectBot('Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0', undefined); // false
 * ```
 */
export function detectBot(
  userAgent: string | null,
  override: boolean | ((userAgent: string) => boolean) | undefined,
): boolean {
  if (typeof override === 'boolean') return override;
  const ua = userAgent ?? '';
  if (typeof override === 'function') return override(ua);
  return isbot(ua);
}

/** Whether the request of a render comes from a crawler: the one bot check of a render. */
export function isBotRequest(options: RenderOptions): boolean {
  return detectBot(userAgentOf(options.request), options.isBot);
}
