/**
 * The placeholder Vite writes as `nonce` on the tags of `index.html` (its `html.cspNonce`
 * option, also the `<meta property="csp-nonce">` its client reads). The server replaces it with
 * each response's own nonce.
 */
export const NONCE_PLACEHOLDER = 'KILN_NONCE_PLACEHOLDER';

/**
 * The template of one response: every nonce placeholder replaced by the response's nonce.
 *
 * @example
 * const template = withNonce(await vite.transformIndexHtml(url, indexHtml), nonce);
 */
export function withNonce(template: string, nonce: string): string {
  return template.replaceAll(NONCE_PLACEHOLDER, nonce);
}
