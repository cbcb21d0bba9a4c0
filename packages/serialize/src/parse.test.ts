import { afterEach, describe, expect, it } from 'vitest';
import { KilnSerializeError } from './errors';
import { parse } from './parse';
import { serialize } from './serialize';

function thrown(run: () => unknown): KilnSerializeError {
  try {
    run();
  } catch (error) {
    if (error instanceof KilnSerializeError) return error;
    throw new Error(`expected a KilnSerializeError, got ${String(error)}`);
  }
  throw new Error('expected a KilnSerializeError, nothing was thrown');
}

const objectProtoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
const arrayProtoKeys = Object.getOwnPropertyNames(Array.prototype).sort();

function expectPrototypesUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(objectProtoKeys);
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayProtoKeys);
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.isAdmin).toBeUndefined();
  expect(Object.prototype.toString.call(probe)).toBe('[object Object]');
}

describe('malformed input', () => {
  it('says the text is truncated and where', () => {
    const text = serialize({ list: [new Date(0), 'x'.repeat(20)] });
    for (const cut of [1, 10, text.length - 1]) {
      const error = thrown(() => parse(text.slice(0, cut)));
      expect(error.code).toBe('INVALID_JSON');
      expect(error.message).toContain(`ends early after ${cut} characters`);
    }
    expect(thrown(() => parse('')).code).toBe('INVALID_JSON');
  });

  it('says where malformed text goes wrong', () => {
    const error = thrown(() => parse('{"a":1,,"b":2}'));
    expect(error.code).toBe('INVALID_JSON');
    expect(error.message).toMatch(/position 7/);
    expect(thrown(() => parse(undefined as unknown as string)).code).toBe('INVALID_JSON');
  });

  it.each([
    ['an unknown version', '{"$kiln":9,"v":1}', 'value', 'version 9'],
    ['an unknown tag', '{"$kiln":1,"v":{"a":[{"$k":"Z"}]}}', 'value.a[0]', 'unknown tag "Z"'],
    ['a bad BigInt', '{"$kiln":1,"v":{"$k":"b","v":"1e3"}}', 'value', 'not a BigInt'],
    ['a bad number', '{"$kiln":1,"v":{"$k":"n","v":"1"}}', 'value', 'unknown number'],
    ['a bad Date', '{"$kiln":1,"v":{"$k":"D","v":"now"}}', 'value', 'Date'],
    ['a bad RegExp', '{"$kiln":1,"v":{"$k":"R","v":"(","f":""}}', 'value', 'regular expression'],
    ['a bad URL', '{"$kiln":1,"v":{"$k":"U","v":"nope"}}', 'value', 'not a valid URL'],
    ['bad base64', '{"$kiln":1,"v":{"$k":"A","v":"***"}}', 'value', 'base64'],
    ['a bad typed array', '{"$kiln":1,"v":{"$k":"T","t":"Array","v":""}}', 'value', 'typed'],
    ['misaligned bytes', '{"$kiln":1,"v":{"$k":"T","t":"Uint32Array","v":"AAA="}}', 'value', 'fit'],
    ['an odd Map', '{"$kiln":1,"v":{"$k":"M","v":[1]}}', 'value', 'even'],
    ['a Map without entries', '{"$kiln":1,"v":{"$k":"M"}}', 'value', 'array "v"'],
    [
      'a reference before its definition',
      '{"$kiln":1,"v":[{"$k":"r","i":0}]}',
      'value[0]',
      'before',
    ],
    [
      'a duplicated definition',
      '{"$kiln":1,"v":[{"$k":"d","i":0,"v":[]},{"$k":"d","i":0,"v":[]}]}',
      'value[1]',
      'bad reference id',
    ],
    ['a definition of a primitive', '{"$kiln":1,"v":{"$k":"d","i":0,"v":1}}', 'value', 'primitive'],
    ['a hole outside an array', '{"$kiln":1,"v":{"a":{"$k":"h"}}}', 'value.a', 'hole'],
  ])('rejects %s with its path', (_, text, path, words) => {
    const error = thrown(() => parse(text));
    expect(error.code).toBe('INVALID_FORMAT');
    expect(error.path).toBe(path);
    expect(error.message).toContain(words);
  });

  it('parses 100,000 nested plain arrays and rejects them clearly when tagged', () => {
    const depth = 100_000;
    let value = parse<unknown[]>(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    let levels = 0;
    while (value.length > 0) {
      value = value[0] as unknown[];
      levels++;
    }
    expect(levels).toBe(depth - 1);
    const tagged = `{"$kiln":1,"v":${'['.repeat(depth)}{"$k":"u"}${']'.repeat(depth)}}`;
    expect(thrown(() => parse(tagged)).code).toBe('TOO_DEEP');
  });
});

describe('prototype pollution', () => {
  afterEach(expectPrototypesUntouched);

  it.each([
    ['plain __proto__', '{"__proto__":{"polluted":"yes"}}'],
    ['nested __proto__', '{"a":[{"__proto__":{"polluted":"yes"}}]}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"polluted":"yes"}}}'],
    [
      'tagged __proto__',
      '{"$kiln":1,"v":{"__proto__":{"polluted":{"$k":"u"}},"d":{"$k":"D","v":0}}}',
    ],
    [
      'a tagged value under __proto__',
      '{"$kiln":1,"v":{"__proto__":{"$k":"M","v":["polluted","yes"]}}}',
    ],
    [
      'escaped object with __proto__',
      '{"$kiln":1,"v":{"$k":"o","v":["__proto__",{"isAdmin":true}]}}',
    ],
    [
      '__proto__ reference',
      '{"$kiln":1,"v":{"$k":"d","i":0,"v":{"a":{"__proto__":{"$k":"r","i":0}}}}}',
    ],
    [
      'constructor via a Map',
      '{"$kiln":1,"v":{"$k":"M","v":["constructor",{"prototype":{"polluted":1}}]}}',
    ],
  ])('%s stays own data', (_, text) => {
    const value = parse<Record<string, unknown>>(text);
    const allowed = [Object.prototype, Array.prototype, Map.prototype, Date.prototype];
    let ownProtoKeys = 0;
    const walk = (node: unknown, seen: Set<unknown>): void => {
      if (typeof node !== 'object' || node === null || seen.has(node)) return;
      seen.add(node);
      expect(allowed.includes(Object.getPrototypeOf(node))).toBe(true);
      if (Object.hasOwn(node, '__proto__')) ownProtoKeys++;
      const children =
        node instanceof Map
          ? [...node.values()]
          : Object.values(Object.getOwnPropertyDescriptors(node)).map((d) => d.value);
      for (const child of children) walk(child, seen);
    };
    walk(value, new Set());
    expect(ownProtoKeys).toBe(text.includes('"__proto__"') ? 1 : 0);
  });

  it('looks up only own revivers and built-in constructors by name', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const text = `{"$kiln":1,"v":{"$k":"C","t":"${name}","v":{"polluted":1}}}`;
      expect(thrown(() => parse(text, { revivers: {} })).code).toBe('UNKNOWN_TYPE');
      const typed = `{"$kiln":1,"v":{"$k":"T","t":"${name}","v":""}}`;
      expect(thrown(() => parse(typed)).code).toBe('INVALID_FORMAT');
    }
    const error = parse<Error>('{"$kiln":1,"v":{"$k":"E","n":"__proto__","m":"x"}}');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('__proto__');
  });

  it('ignores tags inherited from a polluted prototype', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.$k = 'u';
    try {
      expect(parse('{"$kiln":1,"v":{"a":{"b":1},"d":{"$k":"D","v":0}}}')).toEqual({
        a: { b: 1 },
        d: new Date(0),
      });
    } finally {
      delete proto.$k;
    }
  });
});
