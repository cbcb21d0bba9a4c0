/**
 * Stable codes of the errors `@kiln/core` creates. Branch on `error.code`, never on the
 * message text.
 */
export type KilnErrorCode =
  | 'KILN_SHELL_ERROR'
  | 'KILN_PLUGIN_ERROR'
  | 'KILN_TIMEOUT'
  | 'KILN_ABORTED'
  | 'KILN_CLIENT_DISCONNECTED'
  | 'KILN_STATUS_AFTER_FIRST_BYTE'
  | 'KILN_HEADER_AFTER_FIRST_BYTE'
  | 'KILN_REDIRECT_AFTER_FIRST_BYTE'
  | 'KILN_INVALID_STATUS'
  | 'KILN_INVALID_HEADER'
  | 'KILN_INVALID_HOST'
  | 'KILN_INVALID_TARGET'
  | 'KILN_INVALID_REDIRECT'
  | 'KILN_INVALID_TEMPLATE'
  | 'KILN_NOT_A_DOCUMENT'
  | 'KILN_INJECT_AFTER_END'
  | 'KILN_RESULT_CONSUMED'
  | 'KILN_NO_RENDER_CONTEXT'
  | 'KILN_WAIT_FOR_REJECTED'
  | 'KILN_STATE_ERROR'
  | 'KILN_NO_CONTAINER'
  | 'KILN_INVALID_NONCE'
  | 'KILN_DYNAMIC_SHELL'
  | 'KILN_PRERENDER_FAILED'
  | 'KILN_INVALID_SHELL'
  | 'KILN_INVALID_SHELL_HEADERS'
  | 'KILN_SERVER_ENTRY_IN_BROWSER';

/**
 * The error class of `@kiln/core`. Its message reads `[kiln/core] <problem>; <how to fix>`
 * and `code` is stable across versions.
 *
 * @example
 * ```tsx
 * import { KilnError, renderToHtml } from '@kiln/core';
 *
 * let timeouts = 0;
 * const result = await renderToHtml(<p>hello</p>, {
 *   onError(error) {
 *     if (error instanceof KilnError && error.code === 'KILN_TIMEOUT') timeouts++;
 *   },
 * });
 * ```
 */
export class KilnError extends Error {
  /** A stable identifier of the problem. */
  readonly code: KilnErrorCode;

  constructor(code: KilnErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[kiln/core] ${message}`, options);
    this.name = 'KilnError';
    this.code = code;
  }
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * The error of a `nonce` option that breaks Kiln's one nonce rule (`isValidNonce` of
 * `@kiln/serialize`: 1 to 256 base64 or base64url characters).
 */
export function invalidNonceError(): KilnError {
  return new KilnError(
    'KILN_INVALID_NONCE',
    'the nonce option has characters outside base64 and base64url, or is empty or longer than 256 characters; ' +
      "generate it per request with randomBytes(16).toString('base64') and never take it from the request",
  );
}

/**
 * The digest the server gives React for a Suspense boundary it stopped on purpose (the
 * render's timeout or abort). React writes it into the page, and the browser's `hydrate` can
 * tell those boundaries, expected to be rendered in the browser, from real errors.
 */
export function stoppedDigest(error: unknown): string | undefined {
  if (!(error instanceof KilnError)) return undefined;
  return error.code === 'KILN_TIMEOUT' || error.code === 'KILN_ABORTED' ? error.code : undefined;
}

/** Whether a recoverable error in the browser is a boundary the server stopped on purpose. */
export function isStoppedBoundary(error: unknown): boolean {
  const digest =
    typeof error === 'object' && error !== null
      ? (error as { digest?: unknown }).digest
      : undefined;
  return digest === 'KILN_TIMEOUT' || digest === 'KILN_ABORTED';
}
