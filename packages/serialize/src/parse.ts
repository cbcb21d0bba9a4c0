import { addSegment, isStackOverflow, KilnSerializeError } from './errors';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_ROOT,
  ENVELOPE_PREFIX,
  errorConstructor,
  FORMAT_VERSION,
  fromBase64,
  setKey,
  TAG,
  typedArrayConstructor,
} from './format';
import type { ParseOptions, Reviver } from './types';

type Node = Record<string, unknown>;

/** The state of one `parse` call in the tagged format. */
interface Reader {
  refs: unknown[];
  /** Whether each id has been defined (`refs[id]` may legitimately hold undefined). */
  defined: boolean[];
  revivers: Record<string, Reviver> | undefined;
  maxDepth: number;
  /** `Object.prototype` has enumerable keys (it was polluted): walk own keys only. */
  inheritsKeys: boolean;
}

const hasOwn = Object.prototype.hasOwnProperty;
const BIGINT = /^-?(?:0|[1-9][0-9]*)$/;

function invalid(problem: string): KilnSerializeError {
  return new KilnSerializeError(
    'INVALID_FORMAT',
    problem,
    'pass the exact text serialize() returned, unmodified',
  );
}

function isTag(node: unknown, code: string): boolean {
  return (
    typeof node === 'object' &&
    node !== null &&
    !Array.isArray(node) &&
    hasOwn.call(node, TAG) &&
    (node as Node)[TAG] === code
  );
}

function register(r: Reader, id: number, value: unknown): void {
  if (id >= 0) {
    r.refs[id] = value;
    r.defined[id] = true;
  }
}

/** Returned by `reviveTag` for an array hole; `fillArray` deletes the slot. */
const HOLE: unique symbol = Symbol('hole');

function revive(r: Reader, node: unknown, depth: number, id: number): unknown {
  if (typeof node !== 'object' || node === null) {
    if (id >= 0) throw invalid('a reference definition holds a primitive');
    return node;
  }
  if (depth > r.maxDepth) {
    throw new KilnSerializeError(
      'TOO_DEEP',
      `the value is nested more than ${r.maxDepth} levels deep`,
      'raise the maxDepth option of parse to the one serialize used',
    );
  }
  if (Array.isArray(node)) {
    register(r, id, node);
    fillArray(r, node, depth);
    return node;
  }
  if ((node as Node)[TAG] !== undefined && hasOwn.call(node, TAG)) {
    const value = reviveTag(r, node as Node, depth, id);
    if (value === HOLE) throw invalid('an array hole outside an array');
    return value;
  }
  register(r, id, node);
  fillObject(r, node as Node, depth);
  return node;
}

function fillArray(r: Reader, array: unknown[], depth: number): void {
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (typeof item !== 'object' || item === null) continue;
    try {
      const value =
        !Array.isArray(item) && (item as Node)[TAG] !== undefined && hasOwn.call(item, TAG)
          ? reviveTag(r, item as Node, depth + 1, -1)
          : revive(r, item, depth + 1, -1);
      if (value === HOLE) delete array[i];
      else if (value !== item) array[i] = value;
    } catch (error) {
      throw addSegment(error, i);
    }
  }
}

function fillObject(r: Reader, object: Node, depth: number): void {
  if (r.inheritsKeys) {
    const keys = Object.keys(object);
    for (let i = 0; i < keys.length; i++) fillProperty(r, object, keys[i]!, depth);
    return;
  }
  for (const key in object) fillProperty(r, object, key, depth);
}

function fillProperty(r: Reader, object: Node, key: string, depth: number): void {
  const item = object[key];
  if (typeof item !== 'object' || item === null) return;
  try {
    const value = revive(r, item, depth + 1, -1);
    if (value !== item) setKey(object, key, value);
  } catch (error) {
    throw addSegment(error, key);
  }
}

/** True when `Object.prototype` has enumerable properties, which `for…in` would visit. */
function prototypeHasEnumerableKeys(): boolean {
  for (const _ in {}) return true;
  return false;
}

/** The largest reference id accepted. */
const MAX_ID = 0x7fffffff;

function primitive(id: number, value: unknown): unknown {
  if (id >= 0) throw invalid('a reference definition holds a primitive');
  return value;
}

function leaf(r: Reader, id: number, value: unknown): unknown {
  register(r, id, value);
  return value;
}

function stringField(tag: Node, field: string): string {
  const value = tag[field];
  if (typeof value !== 'string') throw invalid(`the tag "${tag[TAG]}" needs a string "${field}"`);
  return value;
}

function arrayField(tag: Node, field: string): unknown[] {
  const value = tag[field];
  if (!Array.isArray(value)) throw invalid(`the tag "${tag[TAG]}" needs an array "${field}"`);
  return value;
}

function bytesOf(tag: Node): Uint8Array {
  try {
    return fromBase64(stringField(tag, 'v'));
  } catch (error) {
    if (error instanceof KilnSerializeError) throw error;
    throw invalid(`the tag "${tag[TAG]}" holds text that is not base64`);
  }
}

function reviveTag(r: Reader, tag: Node, depth: number, id: number): unknown {
  if (depth > r.maxDepth) {
    throw new KilnSerializeError(
      'TOO_DEEP',
      `the value is nested more than ${r.maxDepth} levels deep`,
      'raise the maxDepth option of parse to the one serialize used',
    );
  }
  const code = tag[TAG];
  switch (code) {
    case 'D': {
      const v = tag.v;
      if (v !== null && typeof v !== 'number') throw invalid('a Date needs a number or null');
      return leaf(r, id, new Date(v === null ? Number.NaN : v));
    }
    case 'u':
      return primitive(id, undefined);
    case 'h':
      return primitive(id, HOLE);
    case 'n': {
      const v = tag.v;
      if (v === 'NaN') return primitive(id, Number.NaN);
      if (v === 'Infinity') return primitive(id, Number.POSITIVE_INFINITY);
      if (v === '-Infinity') return primitive(id, Number.NEGATIVE_INFINITY);
      if (v === '-0') return primitive(id, -0);
      throw invalid(`unknown number ${JSON.stringify(v)}`);
    }
    case 'b': {
      const v = stringField(tag, 'v');
      if (!BIGINT.test(v)) throw invalid(`${JSON.stringify(v)} is not a BigInt`);
      return primitive(id, BigInt(v));
    }
    case 'R': {
      const source = stringField(tag, 'v');
      const flags = stringField(tag, 'f');
      let regexp: RegExp;
      try {
        regexp = new RegExp(source, flags);
      } catch {
        throw invalid(`/${source}/${flags} is not a valid regular expression`);
      }
      return leaf(r, id, regexp);
    }
    case 'U': {
      const href = stringField(tag, 'v');
      let url: URL;
      try {
        url = new URL(href);
      } catch {
        throw invalid(`${JSON.stringify(href)} is not a valid URL`);
      }
      return leaf(r, id, url);
    }
    case 'A':
      return leaf(r, id, bytesOf(tag).buffer);
    case 'T': {
      const Ctor = typedArrayConstructor(tag.t);
      if (Ctor === undefined) throw invalid(`unknown typed array ${JSON.stringify(tag.t)}`);
      const bytes = bytesOf(tag);
      const size = (Ctor as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      if (bytes.byteLength % size !== 0) {
        throw invalid(`${bytes.byteLength} bytes do not fit a ${String(tag.t)}`);
      }
      return leaf(r, id, new Ctor(bytes.buffer as ArrayBuffer));
    }
    case 'M': {
      const entries = arrayField(tag, 'v');
      if (entries.length % 2 !== 0) throw invalid('a Map needs an even number of items');
      const map = new Map<unknown, unknown>();
      register(r, id, map);
      for (let i = 0; i < entries.length; i += 2) {
        const key = revive(r, entries[i], depth + 1, -1);
        try {
          map.set(key, revive(r, entries[i + 1], depth + 1, -1));
        } catch (error) {
          throw addSegment(error, { map: key });
        }
      }
      return map;
    }
    case 'S': {
      const items = arrayField(tag, 'v');
      const set = new Set<unknown>();
      register(r, id, set);
      for (let i = 0; i < items.length; i++) {
        try {
          set.add(revive(r, items[i], depth + 1, -1));
        } catch (error) {
          throw addSegment(error, { set: i });
        }
      }
      return set;
    }
    case 'E': {
      const name = stringField(tag, 'n');
      const message = stringField(tag, 'm');
      const Ctor = errorConstructor(name);
      const error = Ctor ? new Ctor(message) : new Error(message);
      if (!Ctor) {
        Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true });
      }
      Object.defineProperty(error, 'stack', {
        value: `${name}: ${message}`,
        writable: true,
        configurable: true,
      });
      register(r, id, error);
      if (hasOwn.call(tag, 'c')) {
        let cause: unknown;
        try {
          cause = revive(r, tag.c, depth + 1, -1);
        } catch (e) {
          throw addSegment(e, 'cause');
        }
        Object.defineProperty(error, 'cause', {
          value: cause,
          writable: true,
          configurable: true,
        });
      }
      return error;
    }
    case 'o': {
      const entries = arrayField(tag, 'v');
      if (entries.length % 2 !== 0) throw invalid('an object needs an even number of items');
      const object: Node = {};
      register(r, id, object);
      for (let i = 0; i < entries.length; i += 2) {
        const key = entries[i];
        if (typeof key !== 'string') throw invalid('an object key must be a string');
        try {
          setKey(object, key, revive(r, entries[i + 1], depth + 1, -1));
        } catch (error) {
          throw addSegment(error, key);
        }
      }
      return object;
    }
    case 'C': {
      const name = stringField(tag, 't');
      const reviver = r.revivers && hasOwn.call(r.revivers, name) ? r.revivers[name] : undefined;
      if (typeof reviver !== 'function') {
        throw new KilnSerializeError(
          'UNKNOWN_TYPE',
          `no reviver for the custom type ${JSON.stringify(name)}`,
          `pass parse(text, { revivers: { ${JSON.stringify(name)}: (data) => … } }) matching the reducer given to serialize`,
        );
      }
      const data = revive(r, tag.v, depth + 1, -1);
      let value: unknown;
      try {
        value = reviver(data);
      } catch (error) {
        throw new KilnSerializeError(
          'REVIVER_THREW',
          `the reviver ${JSON.stringify(name)} threw (${error instanceof Error ? error.message : String(error)})`,
          'make the reviver accept what its reducer returns',
          { cause: error },
        );
      }
      register(r, id, value);
      return value;
    }
    case 'd': {
      if (id >= 0) throw invalid('a reference definition holds another definition');
      const ref = tag.i;
      if (
        typeof ref !== 'number' ||
        !Number.isInteger(ref) ||
        ref < 0 ||
        ref > MAX_ID ||
        r.defined[ref] === true
      ) {
        throw invalid(`bad reference id ${JSON.stringify(ref)}`);
      }
      const inner = tag.v;
      if (isTag(inner, 'd') || isTag(inner, 'r')) {
        throw invalid('a reference definition holds another reference');
      }
      return revive(r, inner, depth, ref);
    }
    case 'r': {
      if (id >= 0) throw invalid('a reference definition holds another reference');
      const ref = tag.i;
      if (typeof ref !== 'number' || r.defined[ref] !== true) {
        throw invalid(`reference ${JSON.stringify(ref)} comes before its definition`);
      }
      return r.refs[ref];
    }
    default:
      throw invalid(`unknown tag ${JSON.stringify(code)}`);
  }
}

function describeJsonError(error: unknown, text: string): string {
  const detail = error instanceof Error ? error.message : String(error);
  const position = /position (\d+)/.exec(detail);
  const truncated = position ? Number(position[1]) >= text.length : text.trim() === '';
  if (truncated || /end of (json )?input|unterminated/i.test(detail)) {
    return `the text ends early after ${text.length} characters; it is truncated (${detail})`;
  }
  return `the text is not valid JSON (${detail})`;
}

/**
 * Parses text written by `serialize` back into the value, without evaluating any code.
 * Plain JSON text is parsed by `JSON.parse` and returned as is. `__proto__`, `constructor`
 * and `prototype` keys become plain own properties; no prototype is ever touched.
 *
 * @throws {KilnSerializeError} `INVALID_JSON` for malformed or truncated text,
 * `INVALID_FORMAT` for tags that are not valid, `UNKNOWN_TYPE` for a custom type without
 * a reviver, with the path where the problem is.
 *
 * @example
 * ```ts
 * import { parse, serialize } from '@kiln/serialize';
 *
 * const copy = parse<{ at: Date }>(serialize({ at: new Date(0) }));
 * copy.at.getTime(); // 0
 * ```
 */
export function parse<T = unknown>(text: string, options?: ParseOptions): T {
  const root = options?.root ?? DEFAULT_ROOT;
  if (typeof text !== 'string') {
    throw new KilnSerializeError(
      'INVALID_JSON',
      `expected text, got ${text === null ? 'null' : typeof text}`,
      'pass the string serialize() returned',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new KilnSerializeError(
      'INVALID_JSON',
      describeJsonError(error, text),
      'pass the exact text serialize() returned',
      { cause: error },
    );
  }
  if (!text.startsWith(ENVELOPE_PREFIX)) return data as T;
  const envelope = data as Node;
  if (envelope.$kiln !== FORMAT_VERSION || !hasOwn.call(envelope, 'v')) {
    throw invalid(
      `unsupported format version ${JSON.stringify(envelope.$kiln)} (this version reads ${FORMAT_VERSION})`,
    ).locate(root);
  }
  const reader: Reader = {
    refs: [],
    defined: [],
    revivers: options?.revivers,
    maxDepth: options?.maxDepth ?? DEFAULT_MAX_DEPTH,
    inheritsKeys: prototypeHasEnumerableKeys(),
  };
  try {
    return revive(reader, envelope.v, 0, -1) as T;
  } catch (error) {
    if (error instanceof KilnSerializeError) throw error.locate(root);
    if (isStackOverflow(error)) {
      throw new KilnSerializeError(
        'TOO_DEEP',
        'the value is nested too deeply for the call stack',
        'lower the maxDepth option so the limit is reported first',
        { cause: error },
      ).locate(root);
    }
    throw error;
  }
}
