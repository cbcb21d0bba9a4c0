import { escapeAttribute } from '@kiln/serialize';

/**
 * Adds `nonce="…"` to every `<script>` and `<style>` start tag in `html` that has no nonce yet.
 * Kiln applies it to everything written through the injection queue; plugins rarely need it.
 *
 * The scan follows the HTML tokenizer where it matters: comments are skipped, attribute
 * values are read with their quotes, and the raw text inside `<script>` and `<style>` is
 * skipped up to the matching end tag, so a `<script` inside a script's text or an attribute
 * value is never touched.
 *
 * @example
 * ```ts
 * import { addNonce } from '@kiln/core';
 *
 * addNonce('<style>.a{}</style>', 'r4nd0m'); // '<style nonce="r4nd0m">.a{}</style>'
 * ```
 */
export function addNonce(html: string, nonce: string | undefined): string {
  if (!nonce || html.length === 0) return html;
  const lower = html.toLowerCase();
  if (!lower.includes('<script') && !lower.includes('<style')) return html;
  const attribute = ` nonce="${escapeAttribute(nonce)}"`;
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    if (lower.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      i = close === -1 ? html.length : close + 3;
      continue;
    }
    const tag = lower.startsWith('<script', lt)
      ? 'script'
      : lower.startsWith('<style', lt)
        ? 'style'
        : '';
    const after = lower.charCodeAt(lt + 1 + tag.length);
    if (tag === '' || !isTagNameEnd(after)) {
      // Another tag: skip it whole, quoted attribute values included.
      const next = lower.charCodeAt(lt + 1);
      if (next >= 97 && next <= 122) {
        const other = readStartTag(html, lower, lt + 2);
        i = other.end === -1 ? html.length : other.end + 1;
      } else {
        i = lt + 1;
      }
      continue;
    }
    const { end, hasNonce } = readStartTag(html, lower, lt + 1 + tag.length);
    if (end === -1) break;
    if (!hasNonce) {
      const insertAt = lt + 1 + tag.length;
      out += html.slice(copied, insertAt) + attribute;
      copied = insertAt;
    }
    const closeTag = lower.indexOf(`</${tag}`, end + 1);
    i = closeTag === -1 ? html.length : closeTag + tag.length + 2;
  }
  return copied === 0 ? html : out + html.slice(copied);
}

function isTagNameEnd(code: number): boolean {
  // whitespace, `/`, `>` (or the end of the input)
  return (
    Number.isNaN(code) ||
    code === 32 ||
    code === 9 ||
    code === 10 ||
    code === 12 ||
    code === 13 ||
    code === 47 ||
    code === 62
  );
}

/** Reads attributes from `from` to the `>` of a start tag. `end` is the index of that `>`. */
function readStartTag(
  html: string,
  lower: string,
  from: number,
): { end: number; hasNonce: boolean } {
  let hasNonce = false;
  let i = from;
  while (i < html.length) {
    const c = html.charCodeAt(i);
    if (c === 62 /* > */) return { end: i, hasNonce };
    if (c === 32 || c === 9 || c === 10 || c === 12 || c === 13 || c === 47) {
      i++;
      continue;
    }
    let nameEnd = i;
    while (nameEnd < html.length) {
      const n = html.charCodeAt(nameEnd);
      if (
        n === 61 ||
        n === 62 ||
        n === 47 ||
        n === 32 ||
        n === 9 ||
        n === 10 ||
        n === 12 ||
        n === 13
      )
        break;
      nameEnd++;
    }
    if (nameEnd === i) nameEnd++;
    if (lower.slice(i, nameEnd) === 'nonce') hasNonce = true;
    i = nameEnd;
    while (i < html.length && isSpace(html.charCodeAt(i))) i++;
    if (html.charCodeAt(i) !== 61 /* = */) continue;
    i++;
    while (i < html.length && isSpace(html.charCodeAt(i))) i++;
    const q = html.charCodeAt(i);
    if (q === 34 || q === 39) {
      const close = html.indexOf(q === 34 ? '"' : "'", i + 1);
      if (close === -1) return { end: -1, hasNonce };
      i = close + 1;
    } else {
      while (i < html.length && !isSpace(html.charCodeAt(i)) && html.charCodeAt(i) !== 62) i++;
    }
  }
  return { end: -1, hasNonce };
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 12 || code === 13;
}
