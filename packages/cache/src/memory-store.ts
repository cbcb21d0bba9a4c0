import { LRUCache } from 'lru-cache';
import { KilnCacheError } from './errors';
import { type CacheEntry, entrySize, type Store } from './store';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first. Default 10 000. */
  maxEntries?: number;
  /** Most bytes kept (values, keys and metadata); the least recently used go first. Default 128 MiB. */
  maxBytes?: number;
  /** Largest single entry in bytes; bigger entries are not stored. Default `maxBytes / 4`. */
  maxEntryBytes?: number;
  /** The clock for TTLs, in milliseconds. Default `performance.now`. Tests pass a fake one. */
  now?: () => number;
}

/** The in-memory store, with figures for diagnostics. */
export interface MemoryStore extends Store {
  /** Entries held now. */
  readonly size: number;
  /** Bytes held now (as counted against `maxBytes`). */
  readonly bytes: number;
  /** Removes every entry. */
  clear(): void;
}

/**
 * A store in this process's memory: an LRU bounded by entry count and bytes (on
 * `lru-cache`), with per-entry TTLs and a tag index. It is the default for one server; for
 * several instances that must share pages and invalidations, use {@link redisStore}.
 *
 * @example
 * ```ts
 * import { memoryStore, pageCache } from '@kiln/cache';
 *
 * const pages = pageCache({
 *   store: memoryStore({ maxEntries: 5_000, maxBytes: 256 * 1024 * 1024 }),
 *   ttl: 60_000,
 * });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxEntries = positive(options.maxEntries ?? 10_000, 'maxEntries');
  const maxBytes = positive(options.maxBytes ?? 128 * 1024 * 1024, 'maxBytes');
  const maxEntryBytes = positive(
    options.maxEntryBytes ?? Math.floor(maxBytes / 4),
    'maxEntryBytes',
  );
  const tagIndex = new Map<string, Set<string>>();

  const untag = (key: string, entry: CacheEntry): void => {
    for (const tag of entry.tags) {
      const keys = tagIndex.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) tagIndex.delete(tag);
    }
  };

  const lru = new LRUCache<string, CacheEntry>({
    max: maxEntries,
    maxSize: maxBytes,
    maxEntrySize: maxEntryBytes,
    sizeCalculation: (entry, key) => entrySize(key, entry),
    ttlAutopurge: false,
    allowStale: false,
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    dispose: (entry, key) => untag(key, entry),
  });

  return {
    name: 'memory',
    get size() {
      return lru.size;
    },
    get bytes() {
      return lru.calculatedSize;
    },
    clear() {
      lru.clear();
      tagIndex.clear();
    },
    async get(key) {
      return lru.get(key);
    },
    async set(key, entry, ttlMs) {
      if (!(ttlMs > 0)) {
        lru.delete(key);
        return;
      }
      const stored: CacheEntry = { value: entry.value, meta: entry.meta, tags: [...entry.tags] };
      lru.set(key, stored, { ttl: Math.ceil(ttlMs) });
      if (lru.peek(key) !== stored) return;
      for (const tag of stored.tags) {
        let keys = tagIndex.get(tag);
        if (!keys) {
          keys = new Set();
          tagIndex.set(tag, keys);
        }
        keys.add(key);
      }
    },
    async delete(key) {
      return lru.delete(key);
    },
    async deletePrefix(prefix) {
      const keys: string[] = [];
      for (const key of lru.keys()) if (key.startsWith(prefix)) keys.push(key);
      let removed = 0;
      for (const key of keys) if (lru.delete(key)) removed++;
      return removed;
    },
    async deleteTag(tag) {
      const keys = tagIndex.get(tag);
      if (!keys) return 0;
      let removed = 0;
      for (const key of [...keys]) if (lru.delete(key)) removed++;
      tagIndex.delete(tag);
      return removed;
    },
  };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new KilnCacheError(
      'INVALID_OPTION',
      `memoryStore({ ${name} }) must be a positive number, got ${String(value)}; pass a positive limit`,
    );
  }
  return value;
}
