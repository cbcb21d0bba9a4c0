/**
 * The stable codes of {@link KilnSerializeError}. Branch on `error.code`, never on the message.
 *
 * - `FUNCTION`: a function was found in the value.
 * - `SYMBOL`: a symbol was found in the value.
 * - `CLASS_INSTANCE`: an instance of a class without a reducer.
 * - `UNSUPPORTED_TYPE`: a built-in that cannot be carried (WeakMap, WeakSet, WeakRef, Promise, boxed primitives…).
 * - `GETTER_THREW`: reading a property threw.
 * - `REDUCER_THREW`: a custom reducer threw.
 * - `CUSTOM_CYCLE`: a value handled by a reducer contains itself.
 * - `TOO_DEEP`: the value is nested deeper than `maxDepth`.
 * - `INVALID_JSON`: `parse` received text that is not JSON (malformed or truncated).
 * - `INVALID_FORMAT`: `parse` received JSON whose tags are not valid Kiln output.
 * - `UNKNOWN_TYPE`: `parse` met a custom type without a reviver.
 * - `REVIVER_THREW`: a custom reviver threw.
 * - `INVALID_KEY`: a state key is empty or has characters outside `A-Z a-z 0-9 _ - . :`.
 * - `INVALID_NONCE`: a nonce has characters outside base64 / base64url.
 *
 * @example
 * ```ts
 * import { type KilnSerializeErrorCode, KilnSerializeError, parse } from '@kiln/serialize';
 *
 * function codeOf(text: string): KilnSerializeErrorCode | undefined {
 *   try {
 *     parse(text);
 *   } catch (error) {
 *     if (error instanceof KilnSerializeError) return error.code;
 *   }
 *   return undefined;
 * }
 * ```
 */
export type KilnSerializeErrorCode =
  | 'FUNCTION'
  | 'SYMBOL'
  | 'CLASS_INSTANCE'
  | 'UNSUPPORTED_TYPE'
  | 'GETTER_THREW'
  | 'REDUCER_THREW'
  | 'CUSTOM_CYCLE'
  | 'TOO_DEEP'
  | 'INVALID_JSON'
  | 'INVALID_FORMAT'
  | 'UNKNOWN_TYPE'
  | 'REVIVER_THREW'
  | 'INVALID_KEY'
  | 'INVALID_NONCE';

/**
 * One step of a path: a property name, an array index, the key of a Map entry or the position
 * of a Set member.
 *
 * @example
 * ```ts
 * import type { PathSegment } from '@kiln/serialize';
 *
 * const steps: PathSegment[] = ['items', 3, { map: 'k' }, { set: 1 }];
 * ```
 */
export type PathSegment = string | number | { readonly map: unknown } | { readonly set: number };

/**
 * The error every function of `@kiln/serialize` throws. `code` is stable; `path` is where in
 * the value the problem is (`state.user.onClick`), empty when it concerns the whole input.
 *
 * @example
 * ```ts
 * import { KilnSerializeError, serialize } from '@kiln/serialize';
 *
 * try {
 *   serialize({ user: { onClick() {} } }, { root: 'state' });
 * } catch (error) {
 *   if (error instanceof KilnSerializeError && error.code === 'FUNCTION') {
 *     console.log(error.path); // "state.user.onClick"
 *   }
 * }
 * ```
 */
export class KilnSerializeError extends Error {
  /** A stable identifier of the problem. */
  readonly code: KilnSerializeErrorCode;
  /** Where the problem is, formatted like `state.items[3].price`; empty for the whole input. */
  path: string;
  /** The problem without the path and the fix. */
  readonly problem: string;
  /** How to fix it. */
  readonly hint: string;
  /** @internal Segments collected while the error travels up the value. */
  segments: PathSegment[];

  constructor(
    code: KilnSerializeErrorCode,
    problem: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(`[kiln/serialize] ${problem}; ${hint}`, options);
    this.name = 'KilnSerializeError';
    this.code = code;
    this.problem = problem;
    this.hint = hint;
    this.path = '';
    this.segments = [];
  }

  /** @internal Sets the path (root label plus collected segments) and rewrites the message. */
  locate(root: string): this {
    this.path = formatPath(root, this.segments);
    this.message = `[kiln/serialize] ${this.path}: ${this.problem}; ${this.hint}`;
    return this;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'number' || typeof key === 'boolean' || key === null || key === undefined) {
    return String(key);
  }
  if (typeof key === 'bigint') return `${key}n`;
  return `<${Object.prototype.toString.call(key).slice(8, -1)}>`;
}

/**
 * Formats a path: identifiers as `.name`, indexes as `[3]`, other names as `["a b"]`, Map
 * entries as `.get("key")`, Set members as `.values()[2]`.
 */
export function formatPath(root: string, segments: readonly PathSegment[]): string {
  let out = root;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i];
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string') {
      out += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
    } else if (segment !== undefined && 'map' in segment) out += `.get(${formatKey(segment.map)})`;
    else if (segment !== undefined) out += `.values()[${segment.set}]`;
  }
  return out;
}

/** Adds a segment to an error travelling up; other errors pass through. */
export function addSegment(error: unknown, segment: PathSegment): unknown {
  if (error instanceof KilnSerializeError) error.segments.push(segment);
  return error;
}

/** True for the RangeError V8 throws when the call stack is exhausted. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
