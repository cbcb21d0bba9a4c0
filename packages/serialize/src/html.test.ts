import { describe, expect, it } from 'vitest';
import { escapeAttribute, escapeText } from './html';

describe('the HTML escapers', () => {
  it('keeps an attribute value inside its quotes and its tag', () => {
    expect(escapeAttribute(`a"b'c<d>e&f`)).toBe('a&quot;b&#39;c&lt;d&gt;e&amp;f');
    expect(escapeAttribute('plain-value_1.2')).toBe('plain-value_1.2');
    expect(escapeAttribute('&amp;')).toBe('&amp;amp;');
  });

  it('keeps text from opening a tag or a character reference', () => {
    expect(escapeText('1 < 2 & <b>"q"</b>')).toBe('1 &lt; 2 &amp; &lt;b&gt;"q"&lt;/b&gt;');
  });

  it('leaves no character that can end an attribute or start markup, for any input', () => {
    let all = '';
    for (let code = 0; code < 0x300; code++) all += String.fromCharCode(code);
    expect(escapeAttribute(all)).not.toMatch(/["'<>]/);
    expect(escapeText(all)).not.toMatch(/[<>]/);
    // every & left starts one of the references the escapers wrote
    expect(escapeAttribute(all).replace(/&(amp|quot|#39|lt|gt);/g, '')).not.toContain('&');
  });
});
