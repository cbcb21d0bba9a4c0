import { parse, stateScript } from '@kiln/serialize';
import { attr, type Element, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { describe, expect, it } from 'vitest';
import { difference } from './same';

const HOSTILE = [
  '</script>',
  '</SCRIPT',
  '</SCRIPT >',
  '</sc',
  '<',
  '<!--<SCRIPT>x</SCRIPT>-->',
  '&lt;/script&gt;&#60;script&#x3e;',
  '</script\t>',
  '</sCrIpT/>',
  '</script><script>alert(document.domain)</script>',
  '<!--<script>',
  '<!--',
  '-->',
  '<script>',
  ']]>',
  '<![CDATA[x]]>',
  '\u2028',
  '\u2029',
  'a\u2028b\u2029c',
  '\ud800',
  '\udfff',
  'x\udc00\ud800y',
  '&lt;/script&gt;',
  '&',
  '</style><style>',
  '</title></textarea></template>',
  '<svg/onload=alert(1)>',
  '\\u003c/script>',
  '"\'`$' + '{x}',
  '\u0000\u001f',
];

class Note {
  constructor(readonly text: string) {}
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The value shapes in which each hostile string travels. */
function shapes(h: string): [string, unknown][] {
  const error = new TypeError(h);
  const named = new Error(h);
  named.name = h;
  const date = new Date(0);
  Object.assign(date, { toJSON: () => h, toISOString: () => h, toString: () => h });
  return [
    ['top-level string', h],
    ['value', { text: h }],
    ['key', { [h]: 1 }],
    ['nested key and value', [[{ [h]: [h, { [h]: h }] }]]],
    ['key next to a rich value', { [h]: h, at: new Date(1) }],
    ['Map key and value', new Map([[h, h]])],
    ['object Map key', new Map([[{ [h]: h }, 1]])],
    ['Set member', new Set([h, { [h]: h }])],
    ['Error message', error],
    ['Error name', named],
    ['RegExp source', new RegExp(escapeRegExp(h), 'g')],
    ['URL', new URL(`https://example.test/${h}?q=${h}#${h}`)],
    ['Date with hostile toJSON and toISOString', { date }],
    ['custom type', { note: new Note(h) }],
    [
      'shared references',
      (() => {
        const shared = { [h]: h };
        return { a: shared, b: [shared] };
      })(),
    ],
  ];
}

const reducers = { Note: (v: object) => v instanceof Note && v.text };
const revivers = { Note: (text: string) => new Note(text) };

/** The places a script may sit: HTML content, where its text is exact, and SVG foreign content. */
function documents(script: string): [string, string, boolean][] {
  return [
    [
      'body',
      `<!doctype html><html><head><title>t</title></head><body><div id="root"></div>${script}<p id="after">after</p></body></html>`,
      true,
    ],
    [
      'head',
      `<!doctype html><html><head>${script}<title>t</title></head><body><p id="after">after</p></body></html>`,
      true,
    ],
    [
      'svg',
      `<!doctype html><html><body><svg>${script}</svg><p id="after">after</p></body></html>`,
      false,
    ],
  ];
}

/**
 * Parses the document and checks that the script is the only one, holds text only and is
 * followed by the paragraph after it. In HTML content the text must also parse back to the
 * input. In foreign content (`<svg>`, `<math>`) the text is read as markup: with no raw `<`
 * nothing can start a tag, a comment or a CDATA section, but character references such as
 * `&amp;` are decoded, so the text is exact only when it holds no `&`.
 */
function checkDocument(html: string, input: unknown, exact: boolean): void {
  const doc = parseDocument(html);
  const scripts = findAll(doc, 'script');
  expect(scripts).toHaveLength(1);
  const script = scripts[0]!;
  expect(attr(script, 'data-kiln-state')).toBe('state');
  expect((script.childNodes ?? []).every((node: Element) => node.nodeName === '#text')).toBe(true);
  const after = findAll(doc, 'p');
  expect(after.map((p) => attr(p, 'id'))).toEqual(['after']);
  const raw = html.slice(html.indexOf('>', html.indexOf('<script')) + 1, html.indexOf('</script>'));
  if (exact || !raw.includes('&')) {
    expect(textOf(script)).toBe(raw);
    const copy = parse(textOf(script), { revivers });
    expect(difference(input, copy)).toBeUndefined();
  }
}

describe('XSS corpus in a real HTML parser', () => {
  for (const h of HOSTILE) {
    for (const [shape, input] of shapes(h)) {
      it(`${JSON.stringify(h)} as ${shape}`, () => {
        const script = stateScript('state', input, { reducers, nonce: 'bm9uY2U=' });
        expect(script).not.toMatch(/<\/?script[\s\S]*<\/?script[\s\S]*<\/?script/i);
        const inner = script.slice(script.indexOf('>') + 1, script.lastIndexOf('</script>'));
        expect(inner).not.toMatch(/[<\u2028\u2029]/);
        for (const [, html, exact] of documents(script)) checkDocument(html, input, exact);
      });
    }
  }

  it('is not fooled by an Object.prototype polluted before the call', () => {
    const proto = Object.prototype as Record<string, unknown>;
    const arrayProto = Array.prototype as unknown as Record<string, unknown>;
    const input = { text: 'plain', list: [1, { n: 2 }], rich: new Map([['k', new Date(3)]]) };
    const plainInput = { text: 'plain', list: [1, { n: 2 }] };
    let scripts: string[];
    proto.toJSON = () => '</script><script>alert(1)</script>';
    arrayProto.toJSON = () => '</script><script>alert(2)</script>';
    proto['</script><script>alert(3)</script>'] = '</script>';
    proto.$k = 'u';
    proto.$kiln = 1;
    try {
      scripts = [
        stateScript('state', input, { reducers }),
        stateScript('state', plainInput, { reducers }),
      ];
    } finally {
      delete proto.toJSON;
      delete arrayProto.toJSON;
      delete proto['</script><script>alert(3)</script>'];
      delete proto.$k;
      delete proto.$kiln;
    }
    for (const [index, value] of [input, plainInput].entries()) {
      for (const [, html, exact] of documents(scripts[index]!)) checkDocument(html, value, exact);
    }
  });
});
