/** Stable codes carried by {@link KilnCacheError}. */
export type KilnCacheErrorCode =
  | 'STORE_UNAVAILABLE'
  | 'STORE_TIMEOUT'
  | 'STORE_FAILED'
  | 'INVALID_OPTION'
  | 'INVALID_TARGET'
  | 'CORRUPT_ENTRY'
  | 'ENTRY_TOO_LARGE'
  | 'DATA_NOT_STORED'
  | 'NOT_STORED'
  | 'INVALID_MESSAGE';

/**
 * An error raised by `@kiln/cache`. The message names the problem and the fix; `code` is
 * stable, so callers can branch on it.
 *
 * @example
 * ```ts
 * import { KilnCacheError, memoryStore } from '@kiln/cache';
 *
 * const store = memoryStore();
 * try {
 *   await store.get('page:/');
 * } catch (error) {
 *   if (error instanceof KilnCacheError && error.code === 'STORE_UNAVAILABLE') {
 *     // Redis is down: render without the cache
 *   }
 * }
 * ```
 */
export class KilnCacheError extends Error {
  /** A stable identifier of the problem. */
  readonly code: KilnCacheErrorCode;

  constructor(code: KilnCacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[kiln/cache] ${message}`, options);
    this.name = 'KilnCacheError';
    this.code = code;
  }
}
