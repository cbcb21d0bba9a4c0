import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { abstractNonce, fillNonce, isAbstractableNonce, placeholderNonce } from './nonce';

describe('nonce templates', () => {
  it('puts back exactly what was taken out, and any other nonce in the same places', () => {
    const nonceArb = fc.constant(null).map(() => placeholderNonce());
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme-composite', maxLength: 40 }), { maxLength: 6 }),
        nonceArb,
        nonceArb,
        (parts, nonce, other) => {
          const html = parts.join(nonce);
          const template = abstractNonce(html, nonce);
          return (
            fillNonce(template, nonce).toString() === html &&
            fillNonce(template, other).toString() === parts.join(other) &&
            template.cuts.length === Math.max(0, parts.length - 1)
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a document without a nonce whole', () => {
    const template = abstractNonce('<p>é</p>', undefined);
    expect(template.cuts).toEqual([]);
    expect(fillNonce(template, 'x').toString()).toBe('<p>é</p>');
  });

  it('accepts only random-looking nonces', () => {
    expect(isAbstractableNonce(placeholderNonce())).toBe(true);
    expect(isAbstractableNonce('abc')).toBe(false);
    expect(isAbstractableNonce('a"b<c>defghijklmnop')).toBe(false);
    expect(isAbstractableNonce('0123456789abcdef_-')).toBe(true);
  });
});
