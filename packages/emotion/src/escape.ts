const STYLE_END = /<\/(style)/gi;

/**
 * Makes CSS text safe as the content of a `<style>` element.
 *
 * `<style>` is a raw-text element: the only sequence that ends it is `</style` (any case).
 * CSS can only hold that sequence inside a string or a `url(…)` (user data in `content:` or a
 * background URL); there a backslash escapes the `/` without changing the value, so
 * `</style` becomes `<\/style` and the rule means the same.
 *
 * @example
 * ```ts
 * import { escapeStyleText } from '@kiln/emotion';
 *
 * escapeStyleText('.a::after{content:"</style><script>"}');
 * // '.a::after{content:"<\\/style><script>"}'
 * ```
 */
export function escapeStyleText(css: string): string {
  return css.indexOf('</') === -1 ? css : css.replace(STYLE_END, '<\\/$1');
}
