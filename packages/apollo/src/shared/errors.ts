/** Stable codes of the errors `@kiln/apollo` throws. */
export type KilnApolloErrorCode =
  | 'KILN_APOLLO_CLIENT_SHARED'
  | 'KILN_APOLLO_NO_CLIENT'
  | 'KILN_APOLLO_BAD_OPTIONS'
  | 'KILN_APOLLO_BAD_STATE';

/**
 * An error raised by `@kiln/apollo`. The message names the problem and the fix; `code` is
 * stable, so callers can branch on it.
 *
 * @example
 * ```ts
 * import { KilnApolloError } from '@kiln/apollo';
 *
 * function isSharedClient(error: unknown): boolean {
 *   return error instanceof KilnApolloError && error.code === 'KILN_APOLLO_CLIENT_SHARED';
 * }
 * ```
 */
export class KilnApolloError extends Error {
  /** Stable identifier of the problem. */
  readonly code: KilnApolloErrorCode;

  constructor(code: KilnApolloErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[kiln/apollo] ${message}`, options);
    this.name = 'KilnApolloError';
    this.code = code;
  }
}
