import { randomBytes } from 'node:crypto';

/** A fresh CSP nonce: 128 random bits, base64. One per response, never reused. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * A strict Content-Security-Policy for one page: scripts and styles run only with this
 * response's nonce (`'strict-dynamic'` lets the entry module load its imports), no inline
 * `style` attributes, no plugins, no `<base>`, forms post only to this origin, and the page
 * talks only to this origin and the GraphQL endpoint.
 *
 * @example
 * res.setHeader('content-security-policy', contentSecurityPolicy(nonce, '/graphql'));
 */
export function contentSecurityPolicy(nonce: string, graphqlUrl: string): string {
  const connect = ["'self'"];
  if (/^https?:\/\//.test(graphqlUrl)) connect.push(new URL(graphqlUrl).origin);
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}' 'strict-dynamic'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "base-uri 'none'",
    "object-src 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
