/**
 * @module
 * `@kiln/cache`: server-side caching for Kiln. A page cache around `renderToHtml`
 * ({@link pageCache}), stores in memory ({@link memoryStore}) or shared in Redis
 * ({@link redisStore}), invalidation by key, prefix or tag, and the hooks components use to
 * tag pages. The GraphQL data cache lives in `@kiln/cache/apollo`.
 */
export type { PageCacheControl } from './control';
export { useCacheControl, useCacheTags } from './control';
export type { KilnCacheErrorCode } from './errors';
export { KilnCacheError } from './errors';
export type { MemoryStore, MemoryStoreOptions } from './memory-store';
export { memoryStore } from './memory-store';
export type { PageCache, PageCacheOptions, PageResult } from './page-cache';
export { pageCache } from './page-cache';
export type { BufferedSinks, PageCacheInfo, PageCacheStatus } from './page-result';
export type {
  PartialCache,
  PartialCacheInfo,
  PartialCacheOptions,
  PartialCacheStatus,
  PartialResult,
} from './partial-cache';
export { partialCache } from './partial-cache';
export type {
  RedisClientLike,
  RedisClusterLike,
  RedisStore,
  RedisStoreOptions,
} from './redis-store';
export { redisStore } from './redis-store';
export type { RedisLockOptions, RenderLease, RenderLock } from './lock';
export { redisLock } from './lock';
export { hasCookie } from './request';
export type { CacheEntry, InvalidateTarget, JsonValue, Store } from './store';
export { invalidate } from './store';
export type {
  MessageListener,
  RedisPublisherLike,
  RedisSubscriberLike,
  StoreWithTtl,
  TieredStore,
  TieredStoreOptions,
  TieredStoreStats,
} from './tiered-store';
export { tieredStore } from './tiered-store';
