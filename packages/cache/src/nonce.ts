import { randomBytes } from 'node:crypto';

/**
 * A document kept with its CSP nonce taken out: `body` is the HTML without the nonce and
 * `cuts` the byte offsets in `body` where the nonce stood. Putting a fresh nonce back is
 * one `Buffer.concat` of slices, with no parsing and no search.
 */
export interface NonceTemplate {
  /** The document without the nonce. */
  readonly body: Buffer;
  /** Byte offsets in `body` where the nonce stood, in increasing order. */
  readonly cuts: readonly number[];
}

/** The characters a nonce may hold for the page cache to abstract it (base64 and base64url). */
const NONCE_PATTERN = /^[A-Za-z0-9+/_-]{16,}={0,2}$/;

/** Whether `nonce` is random-looking enough to be found and replaced in stored HTML. */
export function isAbstractableNonce(nonce: string): boolean {
  return NONCE_PATTERN.test(nonce);
}

/** A fresh 128-bit nonce, for renders that have no visitor (background revalidation). */
export function placeholderNonce(): string {
  return randomBytes(18).toString('base64');
}

/** Takes every occurrence of `nonce` out of `html`. Without a nonce the body is kept whole. */
export function abstractNonce(html: string, nonce: string | undefined): NonceTemplate {
  if (!nonce) return { body: Buffer.from(html), cuts: [] };
  const parts = html.split(nonce);
  const buffers = parts.map((part) => Buffer.from(part));
  const cuts: number[] = [];
  let offset = 0;
  for (let i = 0; i < buffers.length - 1; i++) {
    offset += buffers[i]!.length;
    cuts.push(offset);
  }
  return { body: Buffer.concat(buffers), cuts };
}

/**
 * The stored document with `nonce` put back at every cut, as slices of the stored body with
 * the nonce between them: nothing is copied, so a writer can hand them to the socket in one
 * corked write.
 */
export function noncePieces(template: NonceTemplate, nonce: string): Buffer[] {
  const { body, cuts } = template;
  if (cuts.length === 0) return [body];
  const fill = Buffer.from(nonce);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    pieces.push(body.subarray(from, cut), fill);
    from = cut;
  }
  pieces.push(body.subarray(from));
  return pieces;
}

/** The stored document with `nonce` put back at every cut, as one buffer. */
export function fillNonce(template: NonceTemplate, nonce: string): Buffer {
  const pieces = noncePieces(template, nonce);
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}

/** A header value with the nonce taken out: the parts between its occurrences. */
export function splitHeader(value: string, nonce: string | undefined): string[] {
  return nonce ? value.split(nonce) : [value];
}

/** A header value with `nonce` put back between its parts. */
export function joinHeader(parts: readonly string[], nonce: string): string {
  return parts.join(nonce);
}
