/**
 * Structural equality that also compares the shape of the object graph: two values are the
 * same when their objects correspond one to one (shared references and cycles included), with
 * `Object.is` for primitives and the meaningful contents of every built-in type.
 * Returns a description of the first difference, or undefined.
 */
export function difference(a: unknown, b: unknown): string | undefined {
  return compare(a, b, 'value', new Map(), new Map());
}

function kind(value: object): string {
  if (Array.isArray(value)) return 'Array';
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return 'Object';
  if (ArrayBuffer.isView(value)) return Object.prototype.toString.call(value).slice(8, -1);
  if (value instanceof Error) return 'Error';
  return Object.prototype.toString.call(value).slice(8, -1) + (value instanceof URL ? 'URL' : '');
}

function bytes(value: ArrayBuffer | ArrayBufferView): number[] {
  return ArrayBuffer.isView(value)
    ? [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)]
    : [...new Uint8Array(value)];
}

function compare(
  a: unknown,
  b: unknown,
  path: string,
  aToB: Map<object, object>,
  bToA: Map<object, object>,
): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} !== ${String(b)}`;
  }
  const mapped = aToB.get(a);
  if (mapped !== undefined || bToA.has(b)) {
    return mapped === b ? undefined : `${path}: the references are not shared the same way`;
  }
  aToB.set(a, b);
  bToA.set(b, a);
  const k = kind(a);
  if (k !== kind(b)) return `${path}: ${k} !== ${kind(b)}`;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return `${path}: length ${a.length} !== ${other.length}`;
    for (let i = 0; i < a.length; i++) {
      if (i in a !== i in other) return `${path}[${i}]: hole mismatch`;
      const d = compare(a[i], other[i], `${path}[${i}]`, aToB, bToA);
      if (d) return d;
    }
    return undefined;
  }
  if (a instanceof Date) {
    return Object.is(a.getTime(), (b as Date).getTime()) ? undefined : `${path}: dates differ`;
  }
  if (a instanceof RegExp) {
    const r = b as RegExp;
    return a.source === r.source && a.flags === r.flags ? undefined : `${path}: regexps differ`;
  }
  if (a instanceof URL) return a.href === (b as URL).href ? undefined : `${path}: URLs differ`;
  if (a instanceof ArrayBuffer || ArrayBuffer.isView(a)) {
    const x = bytes(a);
    const y = bytes(b as ArrayBuffer);
    return x.length === y.length && x.every((v, i) => v === y[i])
      ? undefined
      : `${path}: bytes differ`;
  }
  if (a instanceof Error) {
    const e = b as Error;
    if (a.name !== e.name || a.message !== e.message) return `${path}: errors differ`;
    if ('cause' in a !== 'cause' in e) return `${path}: cause mismatch`;
    return 'cause' in a ? compare(a.cause, e.cause, `${path}.cause`, aToB, bToA) : undefined;
  }
  if (a instanceof Map) {
    const x = [...a];
    const y = [...(b as Map<unknown, unknown>)];
    if (x.length !== y.length) return `${path}: map sizes differ`;
    for (let i = 0; i < x.length; i++) {
      const d =
        compare(x[i]![0], y[i]![0], `${path}.key(${i})`, aToB, bToA) ??
        compare(x[i]![1], y[i]![1], `${path}.get(${i})`, aToB, bToA);
      if (d) return d;
    }
    return undefined;
  }
  if (a instanceof Set) {
    const x = [...a];
    const y = [...(b as Set<unknown>)];
    if (x.length !== y.length) return `${path}: set sizes differ`;
    for (let i = 0; i < x.length; i++) {
      const d = compare(x[i], y[i], `${path}.values()[${i}]`, aToB, bToA);
      if (d) return d;
    }
    return undefined;
  }
  const protoA = Object.getPrototypeOf(a);
  const protoB = Object.getPrototypeOf(b);
  if (protoB !== protoA && !(protoA === null && protoB === Object.prototype)) {
    return `${path}: prototypes differ`;
  }
  const x = Object.keys(a);
  const y = Object.keys(b);
  if (x.join('\u0000') !== y.join('\u0000')) {
    return `${path}: keys ${JSON.stringify(x)} !== ${JSON.stringify(y)}`;
  }
  for (const key of x) {
    const d = compare(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${path}.${key}`,
      aToB,
      bToA,
    );
    if (d) return d;
  }
  return undefined;
}
