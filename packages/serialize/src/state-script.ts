import { KilnSerializeError } from './errors';
import { escapeAttribute } from './html';
import { serialize } from './serialize';
import { assertStateKey, STATE_ATTRIBUTE } from './state-key';
import type { SerializeOptions } from './types';

const NONCE = /^[A-Za-z0-9+/_=-]{1,256}$/;

/**
 * Whether `nonce` is a CSP nonce Kiln accepts: 1 to 256 base64 or base64url characters
 * (`A-Z a-z 0-9 + / _ - =`). It is the one rule of every Kiln package: `stateScript` refuses
 * other nonces and the page cache of `@kiln/cache` bypasses the cache for them.
 *
 * @example
 * ```ts
 * import { isValidNonce } from '@kiln/serialize';
 *
 * isValidNonce('r4nd0m+/='); // true
 * isValidNonce('"><script>'); // false
 * ```
 */
export function isValidNonce(nonce: unknown): nonce is string {
  return typeof nonce === 'string' && NONCE.test(nonce);
}

/**
 * Options of {@link stateScript}: the nonce of the page's Content-Security-Policy, plus
 * everything `serialize` accepts.
 *
 * @example
 * ```ts
 * import type { StateScriptOptions } from '@kiln/serialize';
 *
 * const options: StateScriptOptions = { nonce: 'r4nd0m', reducers: {} };
 * ```
 */
export interface StateScriptOptions extends SerializeOptions {
  /** Added as the `nonce` attribute (base64 or base64url characters only). */
  nonce?: string;
}

/**
 * Returns the complete `<script type="application/json" data-kiln-state="KEY">` element that
 * carries `value` for the client, where `readState(key)` from `@kiln/serialize/client` finds
 * it. The key and nonce are validated and attribute-escaped; the content is `serialize(value)`,
 * which can never close the element. Error paths start at the key.
 *
 * @throws {KilnSerializeError} `INVALID_KEY`, `INVALID_NONCE`, or any error of `serialize`.
 *
 * @example
 * ```ts
 * import { stateScript } from '@kiln/serialize';
 *
 * const html = stateScript('user', { name: '</script>' }, { nonce: 'r4nd0m' });
 * // <script type="application/json" data-kiln-state="user" nonce="r4nd0m">{"name":"\u003c/script>"}</script>
 * ```
 */
export function stateScript(key: string, value: unknown, options?: StateScriptOptions): string {
  assertStateKey(key);
  const nonce = options?.nonce;
  if (nonce !== undefined && !isValidNonce(nonce)) {
    throw new KilnSerializeError(
      'INVALID_NONCE',
      'the nonce has characters outside base64 and base64url',
      'generate it with crypto.randomBytes(16).toString("base64")',
    );
  }
  const json = serialize(value, { root: key, ...options });
  const nonceAttribute = nonce === undefined ? '' : ` nonce="${escapeAttribute(nonce)}"`;
  return `<script type="application/json" ${STATE_ATTRIBUTE}="${escapeAttribute(key)}"${nonceAttribute}>${json}</script>`;
}
