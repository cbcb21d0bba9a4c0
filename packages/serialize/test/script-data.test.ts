// The fact `escapeJson` rests on, checked with a spec-compliant HTML parser (parse5): inside an
// HTML `<script>` element the tokenizer is in the "script data" state
// (https://html.spec.whatwg.org/multipage/parsing.html#script-data-state), which only `<` leaves
// (for `</` and `<!`); character references are not decoded there. So text with no raw `<` is
// read back exactly and cannot end the element or start another, and `>`, `&`, U+2028 and U+2029
// need no escape. JSON.stringify never writes the two characters the input stream rewrites
// (U+0000 becomes U+FFFD, CR becomes LF): it writes them as `\u0000` and `\r`.
import { escapeJson, serialize, stateScript } from '@kiln/serialize';
import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function bodyDocument(script: string): string {
  return `<!doctype html><html><head><title>t</title></head><body>${script}<p id="after">after</p></body></html>`;
}

function headDocument(script: string): string {
  return `<!doctype html><html><head>${script}<title>t</title></head><body><p id="after">after</p></body></html>`;
}

/** The texts of the document's scripts, and the ids of its paragraphs. */
function read(html: string): { scripts: string[]; after: (string | undefined)[] } {
  const doc = parseDocument(html);
  return {
    scripts: findAll(doc, 'script').map(textOf),
    after: findAll(doc, 'p').map((p) => attr(p, 'id')),
  };
}

function jsonScript(text: string): string {
  return `<script type="application/json">${text}</script>`;
}

/** Any string of UTF-16 units, lone surrogates included, with many of the characters that matter. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(
      fc.constantFrom(
        '<',
        '/',
        '!',
        '-',
        '>',
        '&',
        'script',
        'SCRIPT',
        ' ',
        '\t',
        '\u2028',
        '\u2029',
        '\ud800',
        '\udc00',
        'amp;',
        'lt;',
        '[CDATA[',
        ']]',
        'x',
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join('')),
);

describe('script data: only < can end or change a script element', () => {
  it('reads any text without < (and without NUL or CR) back exactly, as one script', () => {
    const noLessThan = anyText.map((text) => text.replace(/[<\u0000\r]/g, ''));
    fc.assert(
      fc.property(noLessThan, (text) => {
        for (const html of [bodyDocument(jsonScript(text)), headDocument(jsonScript(text))]) {
          expect(read(html)).toEqual({ scripts: [text], after: ['after'] });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('is changed by < in the sequences the tokenizer looks for', () => {
    // `</script` ends the element early: the rest becomes markup.
    expect(read(bodyDocument(jsonScript('"</script><p id=x>"'))).after).toEqual(['x', 'after']);
    expect(read(bodyDocument(jsonScript('"</SCRIPT "'))).scripts).toEqual(['"']);
    // `<!--` then `<script` enters the double-escaped state: the first `</script>` no longer
    // ends the element, and the next `<script>` enters that state again: the element swallows
    // the rest of the document, paragraphs and the second script included.
    const swallowed = read(
      bodyDocument(`${jsonScript('"<!--<script>"')}<p id="x"></p><script>1</script>`),
    );
    expect(swallowed.scripts).toHaveLength(1);
    expect(swallowed.scripts[0]).toContain('<p id="x"></p><script>1</script><p id="after">');
    expect(swallowed.after).toEqual([]);
  });

  it('keeps any JSON string exact when only < is escaped', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const json = escapeJson(JSON.stringify(text));
        expect(json).not.toMatch(/[<\u0000\r\u2028\u2029]/);
        const { scripts, after } = read(bodyDocument(jsonScript(json)));
        expect(scripts).toEqual([json]);
        expect(after).toEqual(['after']);
        expect(JSON.parse(scripts[0]!)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('needs no escape for >, & and U+2028/U+2029: JSON.parse reads them raw', () => {
    const text = '{"a":"> & &amp; &lt; \u2028 \u2029"}';
    expect(JSON.parse(text)).toEqual({ a: '> & &amp; &lt; \u2028 \u2029' });
    expect(read(bodyDocument(jsonScript(text))).scripts).toEqual([text]);
  });

  it('holds for long strings and hostile keys written in pieces', () => {
    const long = `${'<p>&amp; “x” \u2028</p>'.repeat(3000)}</script><!--<script>`;
    const value = {
      [`</SCRIPT><!--<script>${'k'.repeat(20_000)}`]: long,
      list: Array.from({ length: 2000 }, (_, i) => ({ [`<!--${i}`]: `</script\t${i}` })),
      lone: ['\ud800', 'a\udfffb', long],
    };
    const text = serialize(value);
    expect(text).not.toMatch(/[<\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
    const { scripts, after } = read(bodyDocument(stateScript('state', value)));
    expect(scripts).toEqual([text]);
    expect(after).toEqual(['after']);
  });
});
