import { describe, expect, it } from 'vitest';
import { invalidateIn, invalidatePage } from './invalidation';
import { memoryStore } from './memory-store';

async function filled(keys: string[], tag = 't') {
  const store = memoryStore();
  for (const key of keys) await store.set(key, { value: key, meta: {}, tags: [tag] }, 60_000);
  return store;
}

describe('invalidation', () => {
  it('keeps keys and prefixes inside the namespace; tags reach every cache on the store', async () => {
    const store = await filled(['page:/a', 'page:/b', 'shell:/a', 'data:/a']);
    expect(await invalidateIn(store, 'page:', { key: '/a' })).toBe(1);
    expect(await store.get('shell:/a')).toBeDefined();
    expect(await invalidateIn(store, 'shell:', { prefix: '/' })).toBe(1);
    expect(await store.get('page:/b')).toBeDefined();
    expect(await invalidateIn(store, 'page:', 't')).toBe(2);
  });

  it('drops a page with every vary value and variant of its default key, and only those', async () => {
    const store = await filled([
      'page:/a\nhost=x',
      'page:/a\nhost=x\nvariant=bot',
      'page:/a\nhost=x\naccept-language=fr',
      'page:/a\nhost=xy',
    ]);
    expect(await invalidatePage(store, 'page:/a\nhost=x', false)).toBe(3);
    expect(await store.get('page:/a\nhost=xy')).toBeDefined();
  });

  it('drops the crawler and browser variants of an app-built key', async () => {
    const store = await filled([
      'page:k',
      'page:k\nvariant=bot',
      'page:k\nvariant=browser',
      'page:kk',
    ]);
    expect(await invalidatePage(store, 'page:k', true)).toBe(3);
    expect(await store.get('page:kk')).toBeDefined();
  });
});
