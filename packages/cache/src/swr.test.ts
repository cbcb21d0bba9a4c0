import { describe, expect, it } from 'vitest';
import { freshness, lifetime, retention } from './swr';

describe('stale-while-revalidate', () => {
  it('is fresh for the ttl (or a shorter maxAge), then stale for the window, then expired', () => {
    const entry = lifetime(1_000, { ttl: 100, staleWhileRevalidate: 50 }, undefined);
    expect(entry).toEqual({ storedAt: 1_000, freshUntil: 1_100, staleUntil: 1_150 });
    expect([1_000, 1_099, 1_100, 1_149, 1_150].map((at) => freshness(entry, at))).toEqual([
      'fresh',
      'fresh',
      'stale',
      'stale',
      'expired',
    ]);
    expect(lifetime(0, { ttl: 100, staleWhileRevalidate: 0 }, 30).freshUntil).toBe(30);
    expect(lifetime(0, { ttl: 100, staleWhileRevalidate: 0 }, 300).freshUntil).toBe(100);
    expect(retention(entry)).toBe(150);
    expect(retention(lifetime(0, { ttl: 100, staleWhileRevalidate: 0 }, 0))).toBe(1);
  });
});
