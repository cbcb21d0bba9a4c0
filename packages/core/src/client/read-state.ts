import { type ReadStateOptions, readState as readSerializedState } from '@kiln/serialize/client';

/**
 * Reads a value the server embedded with `ctx.setState(key, value)`, parsed by
 * `@kiln/serialize` (Dates, Maps, Sets, BigInts… come back as they were). Returns `undefined`
 * when the page has no state under `key` (yet: while the document streams in, a later
 * boundary's state arrives before that boundary's markup).
 *
 * @example
 * ```ts
 * import { readState } from '@kiln/core/client';
 *
 * const user = readState<{ name: string }>('user');
 * console.log(user?.name ?? 'visitor');
 * ```
 */
export function readState<T = unknown>(key: string, options?: ReadStateOptions): T | undefined {
  return readSerializedState<T>(key, options);
}
