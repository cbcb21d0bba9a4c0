import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { describe, expect, it } from 'vitest';
import { KilnSerializeError } from './errors';
import { parse } from './parse';
import { isValidNonce, stateScript } from './state-script';

describe('stateScript', () => {
  it('returns the whole element with the key and nonce', () => {
    expect(stateScript('apollo', { a: '</script>' }, { nonce: 'AbC+/9=' })).toBe(
      '<script type="application/json" data-kiln-state="apollo" nonce="AbC+/9=">{"a":"\\u003c/script>"}</script>',
    );
    expect(stateScript('x', 1)).toBe(
      '<script type="application/json" data-kiln-state="x">1</script>',
    );
  });

  it('is read back by an HTML parser', () => {
    const value = { when: new Date(5), text: '<!--<script>' };
    const doc = parseDocument(`<!doctype html><body>${stateScript('app:data_1', value)}</body>`);
    const [script, ...rest] = findAll(doc, 'script');
    expect(rest).toHaveLength(0);
    expect(attr(script!, 'data-kiln-state')).toBe('app:data_1');
    expect(parse(textOf(script!))).toEqual(value);
  });

  it.each([
    '',
    'a b',
    'a"><script>alert(1)</script>',
    "a'",
    'x'.repeat(201),
    'é',
    5 as unknown as string,
  ])('rejects the key %j', (key) => {
    expect(() => stateScript(key, 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY', name: 'KilnSerializeError' }),
    );
  });

  it('isValidNonce is the rule stateScript applies', () => {
    for (const nonce of ['AbC+/9=', 'a-b_c', 'A'.repeat(256)])
      expect(isValidNonce(nonce)).toBe(true);
    for (const nonce of ['a"b', 'a b', '<x>', '', 'A'.repeat(257), 42]) {
      expect(isValidNonce(nonce)).toBe(false);
    }
  });

  it.each(['a"b', 'a b', '<x>', "'", ''])('rejects the nonce %j', (nonce) => {
    expect(() => stateScript('k', 1, { nonce })).toThrow(KilnSerializeError);
    expect(() => stateScript('k', 1, { nonce })).toThrow(
      expect.objectContaining({ code: 'INVALID_NONCE' }),
    );
  });

  it('starts error paths at the key', () => {
    expect(() => stateScript('user', { onClick() {} })).toThrow(
      expect.objectContaining({ code: 'FUNCTION', path: 'user.onClick' }),
    );
  });
});
