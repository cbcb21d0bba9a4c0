/**
 * @module
 * `@kiln/serialize/client`: the browser side. `readState(key)` finds the state script that
 * the server wrote with `stateScript` and parses it; `parse` reads any `serialize` output.
 * Neither evaluates code, so both work under a strict Content-Security-Policy.
 */

// Reading the state: the state script the server wrote, found by key and parsed.
export type { ReadStateOptions } from './read-state';
export { readState } from './read-state';

// Parsing: any serialize() output back to values, without evaluating code.
export { parse } from './parse';
export type { ParseOptions, Reviver } from './types';

// Errors: the error class, its stable codes and where in the value it happened.
export type { KilnSerializeErrorCode, PathSegment } from './errors';
export { KilnSerializeError } from './errors';
