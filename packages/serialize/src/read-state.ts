import { parse } from './parse';
import { assertStateKey, STATE_ATTRIBUTE } from './state-key';
import type { ParseOptions } from './types';

/**
 * Options of {@link readState}.
 *
 * @example
 * ```ts
 * import { readState, type ReadStateOptions } from '@kiln/serialize/client';
 *
 * const options: ReadStateOptions = { root: document };
 * readState('user', options);
 * ```
 */
export interface ReadStateOptions extends Omit<ParseOptions, 'root'> {
  /** Where to look for the script element. Default `document`. */
  root?: ParentNode;
}

/**
 * Reads the state that `stateScript(key, value)` (or `ctx.setState(key, value)` in
 * `@kiln/core`) put in the page, parsed with {@link parse}. Returns `undefined` when the page
 * has no script for `key` yet, including while the document is still streaming in and the
 * element has not fully arrived. When several elements carry the key, the last one wins.
 *
 * @example
 * ```ts
 * import { readState } from '@kiln/serialize/client';
 *
 * const user = readState<{ name: string }>('user');
 * if (user) console.log(user.name);
 * ```
 */
export function readState<T = unknown>(key: string, options?: ReadStateOptions): T | undefined {
  assertStateKey(key);
  const root: ParentNode | undefined =
    options?.root ?? (typeof document === 'undefined' ? undefined : document);
  if (root === undefined) return undefined;
  const scripts = root.querySelectorAll(`script[${STATE_ATTRIBUTE}]`);
  for (let i = scripts.length - 1; i >= 0; i--) {
    const script = scripts[i]!;
    if (script.getAttribute(STATE_ATTRIBUTE) !== key) continue;
    const text = script.textContent ?? '';
    const parseOptions = { revivers: options?.revivers, maxDepth: options?.maxDepth, root: key };
    if (isStillArriving(script)) {
      try {
        return parse<T>(text, parseOptions);
      } catch {
        return undefined;
      }
    }
    return parse<T>(text, parseOptions);
  }
  return undefined;
}

/** True while the HTML parser may still be appending text to `script` (nothing follows it yet). */
function isStillArriving(script: Element): boolean {
  const doc = script.ownerDocument;
  if (doc.readyState !== 'loading') return false;
  for (let node: Node | null = script; node !== null; node = node.parentNode) {
    if (node.nextSibling !== null) return false;
  }
  return true;
}
