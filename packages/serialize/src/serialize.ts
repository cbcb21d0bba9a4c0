import { addSegment, isStackOverflow, KilnSerializeError, type PathSegment } from './errors';
import { DEFAULT_MAX_DEPTH, DEFAULT_ROOT, FORMAT_VERSION, setKey, TAG, toBase64 } from './format';
import type { Reducer, SerializeOptions } from './types';

const LESS_THAN = /</g;

const LINE_SEPARATOR = /\u2028/g;
const PARAGRAPH_SEPARATOR = /\u2029/g;

/**
 * Escapes JSON text for an HTML `<script>` element: every `<` becomes `\u003c`, and U+2028 and
 * U+2029 become `\u2028` and `\u2029` (they only occur inside JSON strings, where the escape
 * means the same character). `serialize` already does this; use it for JSON text made elsewhere.
 *
 * Inside `<script>` in HTML, `<` is the only character that can end the element or change how
 * the rest is read (`</script`, `<!--`, `<script`); `>` and `&` mean nothing there and are left
 * as they are. U+2028 and U+2029 are escaped so that the text is also a valid string literal
 * for older JavaScript parsers.
 *
 * @example
 * ```ts
 * import { escapeJson } from '@kiln/serialize';
 *
 * escapeJson(JSON.stringify({ q: '</script>' })); // '{"q":"\\u003c/script>"}'
 * ```
 */
export function escapeJson(json: string): string {
  // A pattern of one character and a replacement without `$` take V8's fastest replace: a native
  // search and one copy, no callback. A character class (`/[<\u2028\u2029]/g`) is
  // matched one character at a time instead, several times slower on long text, and a callback
  // per match is slow on HTML-heavy text with thousands of `<`. The separators are rare, so a
  // search for each decides whether their pass is needed.
  let text = json.replace(LESS_THAN, '\\u003c');
  if (text.indexOf('\u2028') !== -1) text = text.replace(LINE_SEPARATOR, '\\u2028');
  if (text.indexOf('\u2029') !== -1) text = text.replace(PARAGRAPH_SEPARATOR, '\\u2029');
  return text;
}

function readRaw(this: Record<string, unknown>, key: string): unknown {
  return this[key];
}

/** JSON.stringify that never calls a `toJSON` planted on a prototype. */
function stringify(value: unknown, polluted: boolean): string {
  return polluted ? JSON.stringify(value, readRaw) : JSON.stringify(value);
}

/**
 * The target length (in UTF-16 units) of one piece of a large plain value. V8 returns a large
 * `JSON.stringify` result as a rope, and the first read of a rope (the search for characters to
 * escape) copies it into one allocation; above 64 Ki two-byte characters that allocation lands in
 * the large-object space, where it costs several times the `JSON.stringify` itself. A large value
 * is therefore stringified in pieces of about this size (groups of entries, so that a value of
 * many small entries does not pay a call per entry), each piece is escaped while it is small, and
 * the escaped pieces are joined into a rope again, as `JSON.stringify` would return it.
 */
const PIECE = 16_384;

const hasOwn = Object.prototype.hasOwnProperty;
const getProto = Object.getPrototypeOf;
const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;

function isPlainProto(proto: object | null): boolean {
  return proto === ObjectProto || proto === null || getProto(proto) === null;
}

/** The state of the plain-data check. */
interface Scan {
  /** Objects met so far. */
  seen: Set<object>;
  /**
   * The estimated lengths of the object entries met so far in the objects being measured, up to
   * `top` (an index rather than `push` and `length =`, which cost a third of the walk).
   */
  stack: number[];
  top: number;
  /** For each object estimated above {@link PIECE}: the estimated lengths of its object entries, in order. */
  entries: Map<object, number[]>;
  maxDepth: number;
}

/**
 * The estimated JSON length of `value` when it is plain JSON data that `JSON.stringify` writes
 * faithfully (plain objects and arrays reached once, strings, finite numbers other than -0,
 * booleans and null), or -1 when it is not. For a value estimated above {@link PIECE}, the
 * estimates of its object entries are kept, so that it can be written in pieces.
 */
function plainSize(value: object, scan: Scan, depth: number): number {
  const seen = scan.seen;
  const size = seen.size;
  seen.add(value);
  if (seen.size === size || depth > scan.maxDepth) return -1;
  const stack = scan.stack;
  const start = scan.top;
  let chars = 2;
  if (Array.isArray(value)) {
    if (getProto(value) !== ArrayProto) return -1;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      switch (typeof item) {
        case 'string':
          chars += item.length + 3;
          break;
        case 'boolean':
          chars += 6;
          break;
        case 'number':
          if (item - item !== 0 || (item === 0 && 1 / item < 0)) return -1;
          chars += 8;
          break;
        case 'object':
          if (item === null) chars += 5;
          else {
            const inner = plainSize(item, scan, depth + 1);
            if (inner < 0) return -1;
            stack[scan.top++] = inner;
            chars += inner + 1;
          }
          break;
        default:
          return -1;
      }
    }
  } else {
    const proto = getProto(value);
    if (proto !== ObjectProto && !isPlainProto(proto)) return -1;
    // for…in needs no array of keys; it also visits inherited enumerable keys, which only adds
    // values to check (JSON.stringify writes own keys only). Own keys come first, in the order
    // of Object.keys, so the entry estimates of own keys are in the order emitPlain reads them.
    for (const key in value) {
      const item: unknown = (value as Record<string, unknown>)[key];
      chars += key.length + 4;
      switch (typeof item) {
        case 'string':
          chars += item.length + 2;
          break;
        case 'boolean':
          chars += 5;
          break;
        case 'number':
          if (item - item !== 0 || (item === 0 && 1 / item < 0)) return -1;
          chars += 8;
          break;
        case 'object':
          if (item === null) chars += 4;
          else {
            const inner = plainSize(item, scan, depth + 1);
            if (inner < 0) return -1;
            stack[scan.top++] = inner;
            chars += inner;
          }
          break;
        default:
          return -1;
      }
    }
  }
  if (chars > PIECE) scan.entries.set(value, stack.slice(start, scan.top));
  scan.top = start;
  return chars;
}

/** The items `start` to `end` of `array` in a new array (without `slice`, which reads `constructor`). */
function part(array: unknown[], start: number, end: number): unknown[] {
  const items: unknown[] = new Array(end - start);
  for (let i = start; i < end; i++) items[i - start] = array[i];
  return items;
}

/** The escaped text of `value` without its outer brackets. */
function piece(value: unknown, polluted: boolean): string {
  return escapeJson(stringify(value, polluted)).slice(1, -1);
}

/**
 * Writes the text of plain `value`, estimated at `size` characters, escaped: in one piece up to
 * {@link PIECE} characters, else in groups of entries of about that size, and entries larger than
 * that on their own, recursively.
 */
function emitPlain(
  value: unknown,
  size: number,
  entries: Map<object, number[]>,
  polluted: boolean,
): string {
  const sizes =
    size > PIECE && typeof value === 'object' && value !== null ? entries.get(value) : undefined;
  if (sizes === undefined) return escapeJson(stringify(value, polluted));
  let next = 0;
  /** The estimated length of an entry: an object's from the scan, a primitive's from itself. */
  const sizeOf = (item: unknown): number =>
    typeof item === 'object' && item !== null
      ? (sizes[next++] ?? 0)
      : typeof item === 'string'
        ? item.length + 3
        : 8;
  let out = '';
  let comma = false;
  let group = 0;
  // Never slice or search `out`: it is a rope, and reading it would copy it whole.
  const add = (text: string) => {
    out = comma ? `${out},${text}` : out + text;
    comma = true;
  };
  if (Array.isArray(value)) {
    let start = 0;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const itemSize = sizeOf(item);
      if (itemSize > PIECE) {
        if (i > start) add(piece(part(value, start, i), polluted));
        add(emitPlain(item, itemSize, entries, polluted));
        start = i + 1;
        group = 0;
      } else {
        group += itemSize;
        if (group >= PIECE) {
          add(piece(part(value, start, i + 1), polluted));
          start = i + 1;
          group = 0;
        }
      }
    }
    if (value.length > start) add(piece(part(value, start, value.length), polluted));
    return `[${out}]`;
  }
  const object = value as Record<string, unknown>;
  // A null-prototype object is created in dictionary mode: adding keys makes no hidden classes.
  let members: Record<string, unknown> = Object.create(null);
  let empty = true;
  for (const key of Object.keys(object)) {
    const item = object[key];
    const itemSize = sizeOf(item) + key.length;
    if (itemSize > PIECE) {
      if (!empty) add(piece(members, polluted));
      add(`${escapeJson(JSON.stringify(key))}:${emitPlain(item, itemSize, entries, polluted)}`);
      members = Object.create(null);
      empty = true;
      group = 0;
    } else {
      setKey(members, key, item);
      empty = false;
      group += itemSize;
      if (group >= PIECE) {
        add(piece(members, polluted));
        members = Object.create(null);
        empty = true;
        group = 0;
      }
    }
  }
  if (!empty) add(piece(members, polluted));
  return `{${out}}`;
}

/** The least number of entries for which an object or array of the tagged format's output is split. */
const SPLIT_ENTRIES = 64;

/**
 * Writes the tagged format's output (JSON-safe, tree-shaped) as escaped JSON text, identical to
 * `escapeJson(JSON.stringify(value))`: the top level, and any second level of many entries, entry
 * by entry, so that no piece is one large rope to copy. (Measuring sizes first, as plain data
 * does, costs more than it saves here: that output is already one walk away from the value.)
 */
function emit(value: unknown, depth: number, polluted: boolean): string {
  if (depth < 2 && typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) {
      const length = value.length;
      if (depth === 0 ? length > 1 : length >= SPLIT_ENTRIES) {
        let out = '[';
        for (let i = 0; i < length; i++) {
          if (i > 0) out += ',';
          out += emit(value[i], depth + 1, polluted);
        }
        return `${out}]`;
      }
    } else {
      const keys = Object.keys(value);
      if (depth === 0 ? keys.length > 1 : keys.length >= SPLIT_ENTRIES) {
        let out = '{';
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          if (i > 0) out += ',';
          out += `${escapeJson(JSON.stringify(key))}:${emit((value as Record<string, unknown>)[key], depth + 1, polluted)}`;
        }
        return `${out}}`;
      }
    }
  }
  return escapeJson(stringify(value, polluted));
}

/** What is known about an object met while writing: where its first copy sits, and its id once it is met again. */
interface Occurrence {
  holder: Record<string | number, unknown>;
  key: string | number;
  out: unknown;
  id: number;
  done: boolean;
  custom: boolean;
}

type Holder = Record<string | number, unknown>;

/** The state of one `serialize` call in the tagged format. */
interface Writer {
  seen: Map<object, Occurrence>;
  nextId: number;
  reducers: [string, Reducer][];
  maxDepth: number;
}

function className(value: object): string {
  try {
    const ctor = (getProto(value) as { constructor?: { name?: unknown } } | null)?.constructor;
    const name = ctor?.name;
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // an exotic prototype; fall through
  }
  return Object.prototype.toString.call(value).slice(8, -1);
}

function read(value: object, key: string | number): unknown {
  try {
    return (value as Holder)[key];
  } catch (error) {
    throw new KilnSerializeError(
      'GETTER_THREW',
      `reading this property threw (${error instanceof Error ? error.message : String(error)})`,
      'make the getter safe or copy the data into a plain object first',
      { cause: error },
    );
  }
}

const UNSUPPORTED: [string, ((value: object) => boolean) | undefined][] = [
  ['Promise', (v) => v instanceof Promise],
  ['WeakMap', (v) => v instanceof WeakMap],
  ['WeakSet', (v) => v instanceof WeakSet],
  ['WeakRef', typeof WeakRef === 'function' ? (v) => v instanceof WeakRef : undefined],
  [
    'SharedArrayBuffer',
    typeof SharedArrayBuffer === 'function' ? (v) => v instanceof SharedArrayBuffer : undefined,
  ],
  ['String object', (v) => v instanceof String],
  ['Number object', (v) => v instanceof Number],
  ['Boolean object', (v) => v instanceof Boolean],
  ['Symbol object', (v) => v instanceof Symbol],
  ['BigInt object', (v) => v instanceof BigInt],
];

/** Writes one value in the tagged format; `holder[key]` is where the result will be stored. */
function write(
  w: Writer,
  value: unknown,
  holder: Holder,
  key: string | number,
  depth: number,
): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (value - value === 0 && (value !== 0 || 1 / value > 0)) return value;
      return {
        [TAG]: 'n',
        v: Number.isNaN(value) ? 'NaN' : value === 0 ? '-0' : value > 0 ? 'Infinity' : '-Infinity',
      };
    case 'undefined':
      return { [TAG]: 'u' };
    case 'bigint':
      return { [TAG]: 'b', v: value.toString() };
    case 'function':
      throw new KilnSerializeError(
        'FUNCTION',
        'functions cannot be serialized',
        'remove the function from the state (pass data, not behaviour)',
      );
    case 'symbol':
      throw new KilnSerializeError(
        'SYMBOL',
        'symbols cannot be serialized',
        'use a string instead of the symbol',
      );
  }
  if (value === null) return null;
  const object = value as object;
  const known = w.seen.get(object);
  if (known !== undefined) {
    if (known.custom && !known.done) {
      throw new KilnSerializeError(
        'CUSTOM_CYCLE',
        `this ${className(object)} contains itself through its reducer`,
        'a value handled by a reducer cannot be part of its own reduced data; break the cycle',
      );
    }
    if (known.id < 0) {
      known.id = w.nextId++;
      if (known.done) setKey(known.holder, known.key, { [TAG]: 'd', i: known.id, v: known.out });
    }
    return { [TAG]: 'r', i: known.id };
  }
  if (depth > w.maxDepth) {
    throw new KilnSerializeError(
      'TOO_DEEP',
      `the value is nested more than ${w.maxDepth} levels deep`,
      'flatten the data or raise the maxDepth option',
    );
  }
  const occurrence: Occurrence = {
    holder,
    key,
    out: undefined,
    id: -1,
    done: false,
    custom: false,
  };
  w.seen.set(object, occurrence);
  const out = writeObject(w, object, occurrence, depth);
  occurrence.out = out;
  occurrence.done = true;
  return occurrence.id < 0 ? out : { [TAG]: 'd', i: occurrence.id, v: out };
}

function writeEntries(w: Writer, object: object, keys: string[], depth: number): unknown[] {
  const entries: unknown[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    entries.push(key);
    try {
      entries.push(write(w, read(object, key), entries as unknown as Holder, 2 * i + 1, depth + 1));
    } catch (error) {
      throw addSegment(error, key);
    }
  }
  return entries;
}

function writeObject(w: Writer, object: object, occurrence: Occurrence, depth: number): unknown {
  if (Array.isArray(object) && getProto(object) === ArrayProto) {
    const out: unknown[] = new Array(object.length);
    for (let i = 0; i < object.length; i++) {
      try {
        out[i] =
          i in object
            ? write(w, read(object, i), out as unknown as Holder, i, depth + 1)
            : { [TAG]: 'h' };
      } catch (error) {
        throw addSegment(error, i);
      }
    }
    return out;
  }
  if (isPlainProto(getProto(object))) {
    const keys = Object.keys(object);
    if (hasOwn.call(object, TAG)) {
      return { [TAG]: 'o', v: writeEntries(w, object, keys, depth) };
    }
    const out: Holder = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      try {
        setKey(out, key, write(w, read(object, key), out, key, depth + 1));
      } catch (error) {
        throw addSegment(error, key);
      }
    }
    return out;
  }
  for (let r = 0; r < w.reducers.length; r++) {
    const [name, reducer] = w.reducers[r]!;
    let reduced: unknown;
    try {
      reduced = reducer(object);
    } catch (error) {
      throw new KilnSerializeError(
        'REDUCER_THREW',
        `the reducer "${name}" threw (${error instanceof Error ? error.message : String(error)})`,
        'make the reducer return false for values it does not handle',
        { cause: error },
      );
    }
    if (reduced === false || reduced === undefined) continue;
    occurrence.custom = true;
    const tag: Holder = { [TAG]: 'C', t: name, v: undefined };
    tag.v = write(w, reduced, tag, 'v', depth + 1);
    return tag;
  }
  if (object instanceof Date) {
    const time = Date.prototype.getTime.call(object);
    return { [TAG]: 'D', v: Number.isNaN(time) ? null : time };
  }
  if (object instanceof Map) {
    const entries: unknown[] = [];
    let index = 0;
    for (const [key, item] of object) {
      try {
        entries.push(write(w, key, entries as unknown as Holder, 2 * index, depth + 1));
        entries.push(write(w, item, entries as unknown as Holder, 2 * index + 1, depth + 1));
      } catch (error) {
        throw addSegment(error, { map: key } as PathSegment);
      }
      index++;
    }
    return { [TAG]: 'M', v: entries };
  }
  if (object instanceof Set) {
    const items: unknown[] = [];
    let index = 0;
    for (const item of object) {
      try {
        items.push(write(w, item, items as unknown as Holder, index, depth + 1));
      } catch (error) {
        throw addSegment(error, { set: index });
      }
      index++;
    }
    return { [TAG]: 'S', v: items };
  }
  if (object instanceof RegExp) return { [TAG]: 'R', v: object.source, f: object.flags };
  if (typeof URL === 'function' && object instanceof URL) return { [TAG]: 'U', v: object.href };
  if (object instanceof ArrayBuffer) return { [TAG]: 'A', v: toBase64(new Uint8Array(object)) };
  if (ArrayBuffer.isView(object)) {
    const bytes = new Uint8Array(object.buffer, object.byteOffset, object.byteLength);
    return {
      [TAG]: 'T',
      t: Object.prototype.toString.call(object).slice(8, -1),
      v: toBase64(bytes),
    };
  }
  if (object instanceof Error) {
    const name = read(object, 'name');
    const message = read(object, 'message');
    const tag: Holder = {
      [TAG]: 'E',
      n: typeof name === 'string' ? name : 'Error',
      m: typeof message === 'string' ? message : String(message),
    };
    if (hasOwn.call(object, 'cause')) {
      try {
        tag.c = write(w, read(object, 'cause'), tag, 'c', depth + 1);
      } catch (error) {
        throw addSegment(error, 'cause');
      }
    }
    return tag;
  }
  for (const [name, test] of UNSUPPORTED) {
    if (test?.(object)) {
      throw new KilnSerializeError(
        'UNSUPPORTED_TYPE',
        `a ${name} cannot be serialized`,
        'send the data it holds instead',
      );
    }
  }
  const name = className(object);
  throw new KilnSerializeError(
    'CLASS_INSTANCE',
    `instances of ${name} cannot be serialized`,
    `convert it to plain data or add a reducer, e.g. serialize(value, { reducers: { ${JSON.stringify(name)}: (v) => v instanceof ${name} && [/* its data */] } }) and the matching reviver in parse`,
  );
}

/**
 * Serializes a value to JSON text that is safe inside an HTML `<script type="application/json">`
 * element and that {@link parse} turns back into an equal value.
 *
 * Plain JSON data (the common case, e.g. an Apollo cache) is written exactly as `JSON.stringify`
 * writes it, escaped. `Date`, `Map`, `Set`, `BigInt`, `undefined`, `NaN`, `±Infinity`, `-0`,
 * `RegExp`, `URL`, typed arrays, `ArrayBuffer`, `Error` (name, message and cause), repeated
 * references and cycles are written as tags where they occur; custom types go through
 * `options.reducers`. `<`, U+2028, U+2029 and lone surrogates never appear raw in the output, so
 * no `</script`, `<!--`, `<script` or `]]>` can.
 *
 * @throws {KilnSerializeError} for values that cannot be carried (functions, symbols, class
 * instances without a reducer, WeakMap, Promise, getters that throw, nesting deeper than
 * `maxDepth`), with the path of the value (`state.user.onClick`).
 *
 * @example
 * ```ts
 * import { serialize } from '@kiln/serialize';
 *
 * serialize({ title: '</script>' }); // '{"title":"\\u003c/script>"}'
 * serialize({ at: new Date(0), tags: new Set(['a']) });
 * ```
 */
export function serialize(value: unknown, options?: SerializeOptions): string {
  try {
    return write0(value, options);
  } catch (error) {
    const root = options?.root ?? DEFAULT_ROOT;
    if (error instanceof KilnSerializeError) throw error.locate(root);
    if (isStackOverflow(error)) {
      throw new KilnSerializeError(
        'TOO_DEEP',
        'the value is nested too deeply for the call stack',
        'flatten the data or lower the maxDepth option so the limit is reported with its path',
        { cause: error },
      ).locate(root);
    }
    throw error;
  }
}

function write0(value: unknown, options: SerializeOptions | undefined): string {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  const reducers = options?.reducers;
  if (typeof value !== 'object' || value === null) {
    if (
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      value === null ||
      (typeof value === 'number' && value - value === 0 && (value !== 0 || 1 / value > 0))
    ) {
      return escapeJson(JSON.stringify(value));
    }
  } else if (!hasOwn.call(value, '$kiln')) {
    const scan: Scan = { seen: new Set(), stack: [], top: 0, entries: new Map(), maxDepth };
    let size = -1;
    try {
      size = plainSize(value, scan, 0);
    } catch {
      // a getter threw or the stack ran out: the tagged writer reports it with its path
    }
    if (size >= 0) return emitPlain(value, size, scan.entries, 'toJSON' in Array.prototype);
  }
  const writer: Writer = {
    seen: new Map(),
    nextId: 0,
    reducers: reducers ? Object.entries(reducers) : [],
    maxDepth,
  };
  const envelope: Holder = { $kiln: FORMAT_VERSION, v: undefined };
  envelope.v = write(writer, value, envelope, 'v', 0);
  return `{"$kiln":${FORMAT_VERSION},"v":${emit(envelope.v, 0, 'toJSON' in Array.prototype)}}`;
}
