// The HTML escapers of every Kiln package: the markup Kiln writes itself (attributes of its
// tags, error documents, redirects) goes through these two functions and no other.

const ATTRIBUTE_SPECIAL = /[&"'<>]/g;
const TEXT_SPECIAL = /[&<>]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '"': '&quot;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
};

function entity(char: string): string {
  return ENTITIES[char] as string;
}

/**
 * Escapes a value for an HTML attribute, quoted with `"` or `'`: `&`, both quotes, `<` and
 * `>` become character references, so the value can neither end the attribute nor the tag.
 *
 * @example
 * ```ts
 * import { escapeAttribute } from '@kiln/serialize';
 *
 * const tag = `<meta name="theme" content="${escapeAttribute('"><script>')}">`;
 * // '<meta name="theme" content="&quot;&gt;&lt;script&gt;">'
 * ```
 */
export function escapeAttribute(value: string): string {
  return value.replace(ATTRIBUTE_SPECIAL, entity);
}

/**
 * Escapes text for the content of an ordinary HTML element (not `<script>` or `<style>`,
 * whose raw text needs `escapeJson` or a CSS escape): `&`, `<` and `>` become character
 * references.
 *
 * @example
 * ```ts
 * import { escapeText } from '@kiln/serialize';
 *
 * const html = `<p>${escapeText('1 < 2 & <b>bold</b>')}</p>`;
 * // '<p>1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;</p>'
 * ```
 */
export function escapeText(value: string): string {
  return value.replace(TEXT_SPECIAL, entity);
}
