import { describe, expect, test } from 'vitest';
import { addNonce } from './nonce';

describe('addNonce', () => {
  test('adds the nonce to script and style start tags without one', () => {
    expect(addNonce('<script>a()</script><style>.a{}</style>', 'N')).toBe(
      '<script nonce="N">a()</script><style nonce="N">.a{}</style>',
    );
    expect(addNonce('<SCRIPT type="module" src="/x.js"></SCRIPT>', 'N')).toBe(
      '<SCRIPT nonce="N" type="module" src="/x.js"></SCRIPT>',
    );
  });

  test('leaves tags that already carry a nonce, and other tags, alone', () => {
    const html = '<script nonce="other">x</script><scripts></scripts><stylesheet><p>style</p>';
    expect(addNonce(html, 'N')).toBe(html);
  });

  test('does not touch script-like text inside scripts, attributes or comments', () => {
    const html =
      '<script>var s = "<script>";</script><div title="<script>"></div><!-- <style> --><style>a::after{content:"<script>"}</style>';
    expect(addNonce(html, 'N')).toBe(
      '<script nonce="N">var s = "<script>";</script><div title="<script>"></div><!-- <style> --><style nonce="N">a::after{content:"<script>"}</style>',
    );
  });

  test('reads quoted attribute values that contain `>` or `nonce`', () => {
    expect(addNonce('<script data-x="a>nonce=b">1</script>', 'N')).toBe(
      '<script nonce="N" data-x="a>nonce=b">1</script>',
    );
  });

  test('escapes the nonce and does nothing without one', () => {
    expect(addNonce('<style></style>', 'a"b')).toBe('<style nonce="a&quot;b"></style>');
    expect(addNonce('<style></style>', undefined)).toBe('<style></style>');
  });
});
