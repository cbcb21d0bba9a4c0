import { type InvalidateTarget, invalidate, type Store } from './store';
import { variantKey } from './stored-page';

/**
 * Invalidation inside one cache's namespace: a `{ key }` or `{ prefix }` is one of the cache's
 * own (the namespace is put in front); a tag (a string or `{ tag }`) is shared by every cache
 * on the store.
 */
export function invalidateIn(
  store: Store,
  namespace: string,
  target: InvalidateTarget,
): Promise<number> {
  if (typeof target === 'object' && target !== null) {
    if ('prefix' in target) return invalidate(store, { prefix: namespace + target.prefix });
    if ('key' in target) return invalidate(store, { key: namespace + target.key });
  }
  return invalidate(store, target);
}

/**
 * Drops the page stored under `key` (namespace included) and its variants: with the app's own
 * key (`customKey`), its crawler and browser variants; with the default key, every entry whose
 * key begins with it (each `vary` value, each variant). Resolves how many entries were removed.
 */
export async function invalidatePage(
  store: Store,
  key: string,
  customKey: boolean,
): Promise<number> {
  let removed = 0;
  if (customKey) {
    for (const one of [key, variantKey(key, 'bot'), variantKey(key, 'browser')])
      if (await store.delete(one)) removed++;
    return removed;
  }
  if (await store.delete(key)) removed++;
  return removed + (await store.deletePrefix(`${key}\n`));
}
