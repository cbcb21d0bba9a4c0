import { KilnCacheError } from './errors';

/** A JSON value, as kept in {@link CacheEntry.meta}. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * One cached value: bytes or text, small JSON metadata (status, headers, timestamps…) and
 * the tags that {@link Store.deleteTag} uses.
 */
export interface CacheEntry {
  /** The cached bytes or text. A store gives back the same type it was given. */
  readonly value: Buffer | string;
  /** Small JSON metadata kept with the value. */
  readonly meta: { readonly [key: string]: JsonValue };
  /** Tags such as `product:42`; `deleteTag('product:42')` removes every entry carrying it. */
  readonly tags: readonly string[];
}

/**
 * Where cached pages and data live. Two implementations ship: {@link memoryStore} (one
 * process, bounded LRU) and {@link redisStore} (shared by every instance that talks to the
 * same Redis). Any object with these methods works.
 *
 * Methods may reject (a store that lost its backend); `@kiln/cache` then renders or fetches
 * without the cache and reports the error.
 *
 * @example
 * ```ts
 * import { memoryStore, type Store } from '@kiln/cache';
 *
 * const store: Store = memoryStore({ maxEntries: 1000, maxBytes: 64 * 1024 * 1024 });
 * await store.set('greeting', { value: 'hello', meta: {}, tags: ['demo'] }, 60_000);
 * (await store.get('greeting'))?.value; // 'hello'
 * await store.deleteTag('demo'); // 1
 * ```
 */
export interface Store {
  /** A short name for diagnostics (`memory`, `redis`). */
  readonly name: string;
  /** The entry under `key`, or `undefined` when there is none (or it expired). */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores `entry` under `key` for `ttlMs` milliseconds, replacing a previous entry. */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  /** Removes the entry under `key`; resolves whether there was one. */
  delete(key: string): Promise<boolean>;
  /** Removes every entry whose key starts with `prefix`; resolves how many were removed. */
  deletePrefix(prefix: string): Promise<number>;
  /** Removes every entry carrying `tag`; resolves how many were removed. */
  deleteTag(tag: string): Promise<number>;
}

/**
 * What to invalidate: one key, every key under a prefix, or every entry carrying a tag.
 * A plain string is a tag.
 */
export type InvalidateTarget =
  | string
  | { readonly key: string }
  | { readonly prefix: string }
  | { readonly tag: string };

/**
 * Removes entries from a store by key, prefix or tag. Tags are shared by every cache on the
 * store, so `invalidate(store, 'product:42')` drops pages and data tagged `product:42`
 * alike, on every instance that shares the store.
 *
 * @example
 * ```ts
 * import { invalidate, memoryStore } from '@kiln/cache';
 *
 * const store = memoryStore();
 * await invalidate(store, { tag: 'product:42' });
 * await invalidate(store, { prefix: 'page:/products/' });
 * ```
 */
export async function invalidate(store: Store, target: InvalidateTarget): Promise<number> {
  if (typeof target === 'string') return store.deleteTag(target);
  if (target && typeof target === 'object') {
    if ('tag' in target && typeof target.tag === 'string') return store.deleteTag(target.tag);
    if ('prefix' in target && typeof target.prefix === 'string') {
      if (target.prefix === '') throw emptyPrefix();
      return store.deletePrefix(target.prefix);
    }
    if ('key' in target && typeof target.key === 'string') {
      return (await store.delete(target.key)) ? 1 : 0;
    }
  }
  throw new KilnCacheError(
    'INVALID_TARGET',
    'invalidate() needs a tag string, { key }, { prefix } or { tag }; pass one of those',
  );
}

function emptyPrefix(): KilnCacheError {
  return new KilnCacheError(
    'INVALID_TARGET',
    'invalidate({ prefix: "" }) would remove everything; pass a non-empty prefix',
  );
}

/** The bytes an entry takes, for size limits and diagnostics. */
export function entrySize(key: string, entry: CacheEntry): number {
  const value =
    typeof entry.value === 'string' ? Buffer.byteLength(entry.value) : entry.value.byteLength;
  let tags = 0;
  for (const tag of entry.tags) tags += tag.length + 8;
  return value + key.length * 2 + JSON.stringify(entry.meta).length + tags + 64;
}
