/**
 * Stable codes carried by {@link KilnEmotionError}.
 *
 * @example
 * ```ts
 * import type { KilnEmotionErrorCode } from '@kiln/emotion';
 *
 * const isConfigError = (code: KilnEmotionErrorCode) => code === 'EMOTION_INVALID_KEY';
 * ```
 */
export type KilnEmotionErrorCode =
  | 'EMOTION_INVALID_KEY'
  | 'EMOTION_INVALID_CACHE'
  | 'EMOTION_NONCE_MISMATCH';

/**
 * An error raised by `@kiln/emotion`. The message names the problem and the fix; `code` is
 * stable and safe to branch on.
 *
 * @example
 * ```ts
 * import { emotion, KilnEmotionError } from '@kiln/emotion';
 *
 * try {
 *   emotion({ key: 'My Key' });
 * } catch (error) {
 *   if (error instanceof KilnEmotionError && error.code === 'EMOTION_INVALID_KEY') {
 *     console.error(error.message);
 *   }
 * }
 * ```
 */
export class KilnEmotionError extends Error {
  /** A stable identifier of the problem. */
  readonly code: KilnEmotionErrorCode;

  constructor(code: KilnEmotionErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[kiln/emotion] ${message}`, options);
    this.name = 'KilnEmotionError';
    this.code = code;
  }
}

/** Throws unless `key` is a valid emotion cache key (lower-case letters and `-`). */
export function assertKey(key: string): void {
  if (!/^[a-z][a-z-]*$/.test(key)) {
    throw new KilnEmotionError(
      'EMOTION_INVALID_KEY',
      `the cache key ${JSON.stringify(key)} is not valid; use lower-case letters and "-" only (emotion puts the key in class names and in the data-emotion attribute)`,
    );
  }
}
