/**
 * @module
 * `@kiln/serialize`: XSS-safe, fast serialization of rich state into HTML. `serialize` writes
 * JSON text that can sit inside `<script type="application/json">` (plain data at
 * `JSON.stringify` speed, tags only where a rich value is), `parse` reads it back without
 * evaluating code, and `stateScript` returns the whole script element for a state key.
 */
export type { KilnSerializeErrorCode, PathSegment } from './errors';
export { KilnSerializeError } from './errors';
export { parse } from './parse';
export { escapeJson, serialize } from './serialize';
export type { StateScriptOptions } from './state-script';
export { isValidNonce, stateScript } from './state-script';
export type { ParseOptions, Reducer, Reviver, SerializeOptions } from './types';
