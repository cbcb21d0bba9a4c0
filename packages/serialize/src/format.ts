/**
 * The wire format, shared by `serialize` and `parse`.
 *
 * Plain JSON data (objects, arrays, strings, finite numbers, booleans, null, every object
 * reached once) is written as itself: `serialize(x)` is `JSON.stringify(x)` with `<`, `>`, `&`,
 * U+2028 and U+2029 written as `\uXXXX`.
 *
 * Anything else is wrapped in an envelope, `{"$kiln":1,"v":VALUE}`, where VALUE is JSON with
 * a tag object wherever a rich value is. A tag is an object with the reserved key `"$k"`:
 *
 * | value | tag |
 * |---|---|
 * | `undefined` | `{"$k":"u"}` |
 * | array hole | `{"$k":"h"}` |
 * | `NaN`, `Infinity`, `-Infinity`, `-0` | `{"$k":"n","v":"NaN"}` … `{"$k":"n","v":"-0"}` |
 * | BigInt | `{"$k":"b","v":"123"}` |
 * | Date | `{"$k":"D","v":1700000000000}` (`null` for an invalid date) |
 * | RegExp | `{"$k":"R","v":"source","f":"gi"}` |
 * | URL | `{"$k":"U","v":"https://…"}` |
 * | Map | `{"$k":"M","v":[k1,v1,k2,v2]}` |
 * | Set | `{"$k":"S","v":[a,b]}` |
 * | Error | `{"$k":"E","n":"TypeError","m":"message"}` (+ `"c"`: cause) |
 * | ArrayBuffer | `{"$k":"A","v":"base64"}` |
 * | typed array, DataView | `{"$k":"T","t":"Uint8Array","v":"base64"}` |
 * | custom type | `{"$k":"C","t":"Money","v":REDUCED}` |
 * | object with an own `"$k"` key | `{"$k":"o","v":[k1,v1,k2,v2]}` |
 * | first of several references | `{"$k":"d","i":ID,"v":VALUE}` |
 * | later reference | `{"$k":"r","i":ID}` |
 *
 * A plain top-level object that has an own `"$kiln"` key also goes in the envelope, so the
 * envelope is recognised by its first bytes alone.
 */
export const ENVELOPE_PREFIX = '{"$kiln":';
/** The envelope's version. */
export const FORMAT_VERSION = 1;
/** The reserved key of a tag object. */
export const TAG = '$k';
/** The default root label of paths in errors. */
export const DEFAULT_ROOT = 'value';
/** The default maximum nesting depth. */
export const DEFAULT_MAX_DEPTH = 1000;

/** The typed-array constructors by name (DataView included), looked up without touching prototypes. */
export function typedArrayConstructor(
  name: unknown,
): (new (buffer: ArrayBuffer) => ArrayBufferView) | undefined {
  switch (name) {
    case 'Int8Array':
      return Int8Array;
    case 'Uint8Array':
      return Uint8Array;
    case 'Uint8ClampedArray':
      return Uint8ClampedArray;
    case 'Int16Array':
      return Int16Array;
    case 'Uint16Array':
      return Uint16Array;
    case 'Int32Array':
      return Int32Array;
    case 'Uint32Array':
      return Uint32Array;
    case 'Float32Array':
      return Float32Array;
    case 'Float64Array':
      return Float64Array;
    case 'BigInt64Array':
      return BigInt64Array;
    case 'BigUint64Array':
      return BigUint64Array;
    case 'DataView':
      return DataView;
    default:
      return undefined;
  }
}

/** The built-in error constructors by name. */
export function errorConstructor(name: string): ErrorConstructor | undefined {
  switch (name) {
    case 'Error':
      return Error;
    case 'TypeError':
      return TypeError;
    case 'RangeError':
      return RangeError;
    case 'SyntaxError':
      return SyntaxError;
    case 'ReferenceError':
      return ReferenceError;
    case 'EvalError':
      return EvalError;
    case 'URIError':
      return URIError;
    default:
      return undefined;
  }
}

/** Base64 of bytes, chunked so large buffers do not overflow `String.fromCharCode`'s arguments. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk) as unknown as number[]);
  }
  return btoa(binary);
}

/** Bytes of base64 text; throws on text that is not base64. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Sets `target[key]` as an own data property. A `__proto__` key is defined rather than
 * assigned, so it never reaches (or replaces) the target's prototype.
 */
export function setKey(
  target: Record<string | number, unknown>,
  key: string | number,
  value: unknown,
): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}
