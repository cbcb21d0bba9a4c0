/**
 * @module
 * `@kiln/serialize`: XSS-safe, fast serialization of rich state into HTML. `serialize` writes
 * JSON text that can sit inside `<script type="application/json">` (plain data at
 * `JSON.stringify` speed, tags only where a rich value is), `parse` reads it back without
 * evaluating code, and `stateScript` returns the whole script element for a state key.
 */

// Writing: rich state to JSON text safe inside <script type="application/json">.
export { escapeJson, serialize } from './serialize';
export type { Reducer, SerializeOptions } from './types';

// The state script: the whole element for one state key.
export type { StateScriptOptions } from './state-script';
export { isValidNonce, stateScript } from './state-script';

// HTML: the one attribute and text escaper of every Kiln package.
export { escapeAttribute, escapeText } from './html';

// Reading: the JSON text back to values, without evaluating code.
export { parse } from './parse';
export type { ParseOptions, Reviver } from './types';

// Errors: the error class, its stable codes and where in the value it happened.
export type { KilnSerializeErrorCode, PathSegment } from './errors';
export { KilnSerializeError } from './errors';
