/**
 * A reducer turns an instance of a custom type into data `serialize` can carry, or declines
 * by returning `false` or `undefined`. Reducers are tried, in the order given, on every object
 * that is neither a plain object nor a plain array (so plain data never pays for them), before
 * the built-in types.
 *
 * @example
 * ```ts
 * import type { Reducer } from '@kiln/serialize';
 *
 * class Money {
 *   constructor(readonly amount: number, readonly currency: string) {}
 * }
 * const money: Reducer = (value) => value instanceof Money && [value.amount, value.currency];
 * ```
 */
export type Reducer = (value: object) => unknown;

/**
 * A reviver rebuilds a custom type from what its reducer returned (already revived, so it
 * may hold Dates, Maps, other custom types…).
 *
 * @example
 * ```ts
 * import type { Reviver } from '@kiln/serialize';
 *
 * class Money {
 *   constructor(readonly amount: number, readonly currency: string) {}
 * }
 * const money: Reviver = (data) => {
 *   const [amount, currency] = data as [number, string];
 *   return new Money(amount, currency);
 * };
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: a reviver knows the shape its reducer wrote.
export type Reviver = (data: any) => unknown;

/**
 * Options of `serialize`.
 *
 * @example
 * ```ts
 * import { serialize, type SerializeOptions } from '@kiln/serialize';
 *
 * const options: SerializeOptions = { root: 'state', maxDepth: 500 };
 * serialize({ a: 1 }, options);
 * ```
 */
export interface SerializeOptions {
  /** Custom types by name; the same names go in `parse`'s `revivers`. */
  reducers?: Record<string, Reducer>;
  /** The name of the value in error paths (`state.user.onClick`). Default `"value"`. */
  root?: string;
  /** The deepest nesting accepted; deeper values raise `TOO_DEEP`. Default 1000. */
  maxDepth?: number;
}

/**
 * Options of `parse`.
 *
 * @example
 * ```ts
 * import { parse, type ParseOptions } from '@kiln/serialize';
 *
 * const options: ParseOptions = { revivers: { Point: ([x, y]) => ({ x, y }) } };
 * parse('[1,2]', options);
 * ```
 */
export interface ParseOptions {
  /** Custom types by name, matching the `reducers` given to `serialize`. */
  revivers?: Record<string, Reviver>;
  /** The name of the value in error paths. Default `"value"`. */
  root?: string;
  /** The deepest nesting accepted; deeper values raise `TOO_DEEP`. Default 1000. */
  maxDepth?: number;
}
