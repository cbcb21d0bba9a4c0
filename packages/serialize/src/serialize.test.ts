import { describe, expect, it } from 'vitest';
import { difference } from '../test/same';
import { KilnSerializeError } from './errors';
import { parse } from './parse';
import { escapeJson, serialize } from './serialize';

function roundTrip<T>(value: T): T {
  return parse<T>(serialize(value));
}

function thrown(run: () => unknown): KilnSerializeError {
  try {
    run();
  } catch (error) {
    if (error instanceof KilnSerializeError) return error;
    throw new Error(`expected a KilnSerializeError, got ${String(error)}`);
  }
  throw new Error('expected a KilnSerializeError, nothing was thrown');
}

describe('plain data', () => {
  it('is written exactly as JSON.stringify writes it, escaped', () => {
    const value = {
      ROOT_QUERY: { __typename: 'Query', 'product({"id":"1"})': { __ref: 'Product:1' } },
      'Product:1': { __typename: 'Product', id: '1', name: 'Cup <b>&</b>', price: 12.5 },
      list: [1, 'two', true, null, { nested: [[]] }],
    };
    const text = serialize(value);
    expect(text).toBe(escapeJson(JSON.stringify(value)));
    expect(text).not.toContain('$k');
    expect(JSON.parse(text)).toEqual(value);
    expect(parse(text)).toEqual(value);
  });

  it('writes top-level primitives as JSON', () => {
    expect(serialize('a</script>')).toBe('"a\\u003c/script>"');
    expect(serialize(3)).toBe('3');
    expect(serialize(null)).toBe('null');
    expect(serialize(false)).toBe('false');
    expect(roundTrip('\u2028')).toBe('\u2028');
  });

  it('keeps keys that look like a tag or the envelope as data', () => {
    for (const value of [
      { $k: 'D', v: 0 },
      { $kiln: 1, v: { $k: 'u' } },
      [{ $k: 'r', i: 0 }],
      { a: { $kiln: 2 } },
    ]) {
      expect(difference(value, roundTrip(value))).toBeUndefined();
    }
  });

  it('reads JSON that was not written by serialize', () => {
    expect(parse('{ "a" : [1, 2.5e3, "x"] }')).toEqual({ a: [1, 2500, 'x'] });
  });
});

function holey(): unknown[] {
  const array: unknown[] = [1];
  array[2] = 3;
  return array;
}

describe('rich values', () => {
  const cases: [string, unknown][] = [
    ['undefined', undefined],
    ['undefined property', { a: undefined, b: 1 }],
    ['undefined in an array', [undefined, 1]],
    ['holes', holey()],
    ['NaN, ±Infinity, -0', [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]],
    ['-0 at the top', -0],
    ['BigInt', [0n, -12345678901234567890123n, 2n ** 70n]],
    ['Date', [new Date(0), new Date(8.64e15), new Date(Number.NaN)]],
    [
      'Map',
      new Map<unknown, unknown>([
        ['a', 1],
        [{ k: 1 }, new Date(1)],
        [2n, undefined],
      ]),
    ],
    ['Set', new Set<unknown>([1, 'a', { b: 2 }, new Set([3])])],
    ['RegExp', [/a+b/gi, /<\/script>/y, /(?<year>\d{4})/dsu]],
    ['URL', new URL('https://example.com/a?b=<c>#d')],
    ['ArrayBuffer', new Uint8Array([0, 1, 255]).buffer],
    [
      'typed arrays',
      [
        new Int8Array([-1, 2]),
        new Uint8ClampedArray([300]),
        new Int16Array([-300]),
        new Uint16Array([65535]),
        new Int32Array([-1]),
        new Uint32Array([4e9]),
        new Float32Array([1.5, Number.NaN]),
        new Float64Array([Math.PI, -0]),
        new BigInt64Array([-(2n ** 63n)]),
        new BigUint64Array([2n ** 64n - 1n]),
        new DataView(new Uint8Array([9, 8, 7]).buffer),
      ],
    ],
    ['a view on part of a buffer', new Uint8Array(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2)],
    ['Error', [new Error('boom'), new TypeError('bad </script>'), new RangeError('r')]],
    ['Error with a cause', new Error('outer', { cause: new Error('inner') })],
  ];
  for (const [name, value] of cases) {
    it(`round-trips ${name}`, () => {
      expect(difference(value, roundTrip(value))).toBeUndefined();
    });
  }

  it('keeps the name of custom errors and drops the stack', () => {
    class PaymentError extends Error {
      override name = 'PaymentError';
    }
    const copy = roundTrip(new PaymentError('declined'));
    expect(copy).toBeInstanceOf(Error);
    expect(copy.name).toBe('PaymentError');
    expect(copy.message).toBe('declined');
    expect(copy.stack).toBe('PaymentError: declined');
    expect(serialize(new PaymentError('x'))).not.toContain('serialize.test');
  });

  it('tags only the rich values and leaves the rest as JSON', () => {
    const text = serialize({ a: { b: [1, 2] }, when: new Date(5) });
    expect(text).toBe('{"$kiln":1,"v":{"a":{"b":[1,2]},"when":{"$k":"D","v":5}}}');
  });

  it('keeps shared references and cycles', () => {
    const shared = { id: 1 };
    const value: Record<string, unknown> = {
      a: shared,
      b: [shared],
      m: new Map([[shared, shared]]),
    };
    value.self = value;
    const list: unknown[] = [];
    list.push(list);
    value.list = list;
    const copy = roundTrip(value);
    expect(difference(value, copy)).toBeUndefined();
    expect(copy.self).toBe(copy);
    expect((copy.b as unknown[])[0]).toBe(copy.a);
  });

  it('keeps a Map or Set that contains itself', () => {
    const map = new Map<string, unknown>();
    map.set('me', map);
    const set = new Set<unknown>();
    set.add(set);
    const error = new Error('loop');
    error.cause = error;
    const copy = roundTrip({ map, set, error });
    expect(copy.map.get('me')).toBe(copy.map);
    expect(copy.set.has(copy.set)).toBe(true);
    expect(copy.error.cause).toBe(copy.error);
  });

  it('keeps repeated plain objects reached after their first copy was written', () => {
    const shared = [1, 2];
    const value = { first: { deep: { shared } }, later: [shared], last: shared };
    const copy = roundTrip(value);
    expect(copy.later[0]).toBe(copy.first.deep.shared);
    expect(copy.last).toBe(copy.first.deep.shared);
  });

  it('writes null-prototype objects as plain objects', () => {
    const value = Object.assign(Object.create(null) as object, { a: 1 });
    expect(roundTrip(value)).toEqual({ a: 1 });
  });

  it('keeps __proto__ own keys as data in the tagged format', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"d":0}') as Record<string, unknown>;
    value.d = new Date(0);
    const copy = roundTrip(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'd']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ x: 1 });
  });

  it('ignores symbol keys and non-enumerable properties like JSON.stringify', () => {
    const value = { a: 1, [Symbol('s')]: 2 };
    Object.defineProperty(value, 'hidden', { value: () => 1, enumerable: false });
    expect(serialize(value)).toBe('{"a":1}');
  });
});

describe('custom types', () => {
  class Money {
    constructor(
      readonly amount: number,
      readonly currency: string,
    ) {}
  }
  class Cart {
    constructor(readonly items: Money[]) {}
  }
  const reducers = {
    Money: (v: object) => v instanceof Money && [v.amount, v.currency],
    Cart: (v: object) => v instanceof Cart && v.items,
  };
  const revivers = {
    Money: ([a, c]: [number, string]) => new Money(a, c),
    Cart: (items: Money[]) => new Cart(items),
  };

  it('round-trips through reducers and revivers, nested and shared', () => {
    const price = new Money(12, 'EUR');
    const value = { price, cart: new Cart([price, new Money(1, 'USD')]), at: new Date(3) };
    const copy = parse<typeof value>(serialize(value, { reducers }), { revivers });
    expect(copy.price).toBeInstanceOf(Money);
    expect(copy.price).toEqual(price);
    expect(copy.cart).toBeInstanceOf(Cart);
    expect(copy.cart.items[0]).toBe(copy.price);
    expect(copy.at.getTime()).toBe(3);
  });

  it('does not call reducers for plain data', () => {
    let calls = 0;
    const count = () => {
      calls++;
      return false;
    };
    serialize({ a: [{ b: 1 }], d: new Date(0) }, { reducers: { count } });
    expect(calls).toBe(1);
  });

  it('reports a missing reviver with the path', () => {
    const text = serialize({ a: [new Money(1, 'EUR')] }, { reducers });
    const error = thrown(() => parse(text));
    expect(error.code).toBe('UNKNOWN_TYPE');
    expect(error.path).toBe('value.a[0]');
    expect(error.message).toContain('"Money"');
  });

  it('reports reducers and revivers that throw', () => {
    const boom = () => {
      throw new Error('nope');
    };
    expect(thrown(() => serialize({ m: new Money(1, 'X') }, { reducers: { boom } })).code).toBe(
      'REDUCER_THREW',
    );
    const text = serialize(new Money(1, 'X'), { reducers });
    expect(thrown(() => parse(text, { revivers: { Money: boom } })).code).toBe('REVIVER_THREW');
  });

  it('refuses a custom value that contains itself', () => {
    class Node {
      next: Node | undefined;
    }
    const node = new Node();
    node.next = node;
    const error = thrown(() =>
      serialize(node, { reducers: { Node: (v) => v instanceof Node && { next: v.next } } }),
    );
    expect(error.code).toBe('CUSTOM_CYCLE');
  });
});

describe('errors', () => {
  it('names the path of a function', () => {
    const error = thrown(() => serialize({ user: { onClick() {} } }, { root: 'state' }));
    expect(error.code).toBe('FUNCTION');
    expect(error.path).toBe('state.user.onClick');
    expect(error.message).toBe(
      '[kiln/serialize] state.user.onClick: functions cannot be serialized; remove the function from the state (pass data, not behaviour)',
    );
  });

  it('formats paths through arrays, odd keys, Maps and Sets', () => {
    const value = {
      list: [0, { 'a b': new Map([['k', new Set([1, Symbol('s')])]]) }],
    };
    const error = thrown(() => serialize(value));
    expect(error.code).toBe('SYMBOL');
    expect(error.path).toBe('value.list[1]["a b"].get("k").values()[1]');
  });

  it.each([
    ['a class instance', new (class Widget {})(), 'CLASS_INSTANCE', 'Widget'],
    ['a Promise', Promise.resolve(1), 'UNSUPPORTED_TYPE', 'Promise'],
    ['a WeakMap', new WeakMap(), 'UNSUPPORTED_TYPE', 'WeakMap'],
    ['a WeakSet', new WeakSet(), 'UNSUPPORTED_TYPE', 'WeakSet'],
    ['a boxed string', Object('s'), 'UNSUPPORTED_TYPE', 'String'],
    ['an array subclass', new (class List extends Array {})(), 'CLASS_INSTANCE', 'List'],
    ['a symbol', Symbol('x'), 'SYMBOL', 'symbols'],
    ['a function', () => 1, 'FUNCTION', 'functions'],
  ])('refuses %s', (_, value, code, word) => {
    const error = thrown(() => serialize({ x: [value] }));
    expect(error.code).toBe(code);
    expect(error.path).toBe('value.x[0]');
    expect(error.message).toContain(word);
    expect(error.message).toMatch(/^\[kiln\/serialize\] value\.x\[0\]: .+; .+/);
  });

  it('reports a getter that throws', () => {
    const value = {
      get secret(): string {
        throw new Error('denied');
      },
    };
    const error = thrown(() => serialize({ user: value }));
    expect(error.code).toBe('GETTER_THREW');
    expect(error.path).toBe('value.user.secret');
    expect(error.message).toContain('denied');
  });

  it('fails clearly on 100,000 nested arrays and objects, plain or rich', () => {
    let arrays: unknown = [];
    let objects: unknown = { end: new Date(0) };
    for (let i = 0; i < 100_000; i++) {
      arrays = [arrays];
      objects = { next: objects };
    }
    for (const value of [arrays, objects]) {
      const error = thrown(() => serialize(value));
      expect(error.code).toBe('TOO_DEEP');
      expect(error.message).toContain('nested more than 1000 levels');
    }
  });

  it('accepts nesting up to maxDepth and reports the path beyond it', () => {
    let value: unknown = new Date(1);
    for (let i = 0; i < 300; i++) value = { n: value };
    expect(difference(value, roundTrip(value))).toBeUndefined();
    const error = thrown(() => serialize({ a: value }, { maxDepth: 100 }));
    expect(error.code).toBe('TOO_DEEP');
    expect(error.path).toBe(`value.a${'.n'.repeat(100)}`);
  });
});
