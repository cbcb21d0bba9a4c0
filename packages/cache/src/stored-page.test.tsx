import { renderToHtml } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { placeholderNonce } from './nonce';
import { decodePage, encodePage, fillPage, servesNonce, toStoredPage } from './stored-page';
import { lifetime } from './swr';

async function rendered(nonce: string) {
  const result = await renderToHtml(
    <html lang="en">
      <head>
        <script nonce={nonce}>{'1'}</script>
      </head>
      <body>
        <p>stored</p>
      </body>
    </html>,
    { nonce, mode: 'buffer' },
  );
  result.headers.set('content-security-policy', `script-src 'nonce-${nonce}'`);
  result.headers.set('x-kiln-cache', 'miss');
  result.headers.set('set-cookie', 'a=1');
  return { result, html: await result.text(), nonce, tags: ['product:1'] };
}

describe('stored pages', () => {
  it('cut the nonce out of body and headers, and put each request’s own back', async () => {
    const nonce = placeholderNonce();
    const page = toStoredPage(
      await rendered(nonce),
      lifetime(1_000, { ttl: 60_000, staleWhileRevalidate: 0 }, undefined),
      'x-kiln-cache',
    );
    expect(page.template.body.toString()).not.toContain(nonce);
    const names = page.headers.map(([name]) => name);
    expect(names).toContain('content-security-policy');
    expect(names).not.toContain('x-kiln-cache');
    expect(names).not.toContain('set-cookie');
    const other = placeholderNonce();
    const filled = fillPage(page, other);
    const body = Buffer.concat(filled.pieces).toString();
    expect(body).toContain(`nonce="${other}"`);
    expect(body).not.toContain(nonce);
    expect(filled.bytes).toBe(Buffer.byteLength(body));
    expect(filled.headers.get('content-security-policy')).toBe(`script-src 'nonce-${other}'`);
    expect(servesNonce(page, undefined)).toBe(true);
    expect(servesNonce({ ...page, nonce: false }, other)).toBe(false);
  });

  it('round-trip through a store entry, and refuse entries of another shape', async () => {
    const page = toStoredPage(
      await rendered(placeholderNonce()),
      lifetime(1_000, { ttl: 60_000, staleWhileRevalidate: 30_000 }, 10_000),
      false,
    );
    const { entry, ttlMs } = encodePage(page);
    expect(ttlMs).toBe(40_000);
    expect(entry.tags).toEqual(['product:1']);
    const decoded = decodePage(entry);
    expect(decoded).toEqual(page);
    expect(decodePage({ ...entry, meta: { ...entry.meta, v: 2 } })).toBeUndefined();
    expect(decodePage({ ...entry, meta: { ...entry.meta, cuts: [1e9] } })).toBeUndefined();
    expect(decodePage({ ...entry, meta: { ...entry.meta, storedAt: 'now' } })).toBeUndefined();
  });
});
