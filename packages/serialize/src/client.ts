/**
 * @module
 * `@kiln/serialize/client`: the browser side. `readState(key)` finds the state script that
 * the server wrote with `stateScript` and parses it; `parse` reads any `serialize` output.
 * Neither evaluates code, so both work under a strict Content-Security-Policy.
 */
export type { KilnSerializeErrorCode, PathSegment } from './errors';
export { KilnSerializeError } from './errors';
export { parse } from './parse';
export type { ReadStateOptions } from './read-state';
export { readState } from './read-state';
export type { ParseOptions, Reviver } from './types';
