import { describe, expect, it } from 'vitest';
import { KilnCacheError } from '../src/errors';
import { type CacheEntry, invalidate, type Store } from '../src/store';

export const entry = (value: Buffer | string, tags: string[] = [], meta = {}): CacheEntry => ({
  value,
  meta,
  tags,
});

export function storeContract(name: string, make: () => Store): void {
  describe(`${name}: Store contract`, () => {
    it('gives back values of the type it was given, with metadata and tags', async () => {
      const store = make();
      const bytes = Buffer.from([0, 1, 2, 255, 0x3c]);
      await store.set('a', entry(bytes, ['t1'], { status: 200, headers: [['x', 'y']] }), 10_000);
      await store.set('b', entry('héllo </script>', []), 10_000);
      const a = await store.get('a');
      expect(Buffer.isBuffer(a?.value)).toBe(true);
      expect(Buffer.compare(a?.value as Buffer, bytes)).toBe(0);
      expect(a?.meta).toEqual({ status: 200, headers: [['x', 'y']] });
      expect(a?.tags).toEqual(['t1']);
      expect((await store.get('b'))?.value).toBe('héllo </script>');
      expect(await store.get('missing')).toBeUndefined();
    });

    it('deletes by key, prefix and tag', async () => {
      const store = make();
      await store.set('page:/p/1', entry('1', ['product:1']), 10_000);
      await store.set('page:/p/2', entry('2', ['product:2', 'list']), 10_000);
      await store.set('page:/q*/3', entry('3', ['list']), 10_000);
      await store.set('data:x', entry('x', ['product:1']), 10_000);
      expect(await store.delete('page:/p/1')).toBe(true);
      expect(await store.delete('page:/p/1')).toBe(false);
      expect(await invalidate(store, { tag: 'product:1' })).toBe(1);
      expect(await store.get('data:x')).toBeUndefined();
      expect(await invalidate(store, { prefix: 'page:/q*' })).toBe(1);
      expect(await store.get('page:/p/2')).toBeDefined();
      expect(await invalidate(store, 'list')).toBe(1);
      expect(await store.get('page:/p/2')).toBeUndefined();
      expect(await store.deleteTag('list')).toBe(0);
    });

    it('replacing an entry drops its old tags', async () => {
      const store = make();
      await store.set('k', entry('old', ['old-tag']), 10_000);
      await store.set('k', entry('new', ['new-tag']), 10_000);
      expect(await store.deleteTag('old-tag')).toBe(0);
      expect((await store.get('k'))?.value).toBe('new');
      expect(await store.deleteTag('new-tag')).toBe(1);
    });

    it('rejects an empty prefix and a malformed target', async () => {
      const store = make();
      await expect(invalidate(store, { prefix: '' })).rejects.toMatchObject({
        code: 'INVALID_TARGET',
      });
      await expect(invalidate(store, {} as never)).rejects.toBeInstanceOf(KilnCacheError);
    });
  });
}
