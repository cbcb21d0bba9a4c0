import { CombinedGraphQLErrors } from '@apollo/client';

/**
 * The wire format between the server plugin and the client plugin. Streamed chunks are pushed
 * onto a global queue by inline scripts (`(self[NAME] = self[NAME] || []).push(text)`), where
 * `text` is a `@kiln/serialize` string of a {@link StreamChunk}. The client plugin drains the
 * queue when it starts and replaces `push` so later chunks are applied the moment their script
 * runs: before React reveals the Suspense boundary that needs them.
 */

/** One `cache.write` replayed on the client: `[document id, variables, result, dataId?, overwrite?]`. */
export type WireWrite = [number, Record<string, unknown> | undefined, unknown, string?, boolean?];

/** A query whose server fetch failed: `[document id, canonical variables, error]`. */
export type WireError = [number, string, WireErrorValue];

/** An error as sent to the browser: enough to render the same message on both sides. */
export interface WireErrorValue {
  name: string;
  message: string;
  /** GraphQL errors (`CombinedGraphQLErrors`). */
  errors?: unknown[];
  /** Partial data that came with GraphQL errors. */
  data?: unknown;
}

/** A query (document id + canonical variables): an operation or a hook's query. */
export type WireKey = [number, string];

/**
 * One streamed chunk: new documents (id → printed text), cache writes, failed queries,
 * operations the server started (`p`) and finished (`f`, after their writes), and hook queries
 * with a `network-only` or `cache-and-network` policy whose result the server sent (`s`).
 */
export interface StreamChunk {
  d?: Record<number, string>;
  w?: WireWrite[];
  e?: WireError[];
  p?: WireKey[];
  f?: WireKey[];
  s?: WireKey[];
}

/** What buffered pages embed with `setState`: the final cache (and the results kept apart from it), the failed and the sent queries. */
export interface BufferedState {
  cache: unknown;
  /** Results the server served its hooks as fetched, written after `cache` in this order. */
  w?: WireWrite[];
  d?: Record<number, string>;
  e?: WireError[];
  s?: WireKey[];
}

/** The name of the global queue for a state key. */
export function queueName(key: string): string {
  return `__kilnApollo_${key}`;
}

const KEY_PATTERN = /^[A-Za-z0-9_]+$/;

/** Whether `key` can name the global queue (letters, digits, underscore). */
export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** Converts an Apollo error into its wire form. */
export function errorToWire(error: unknown): WireErrorValue {
  if (CombinedGraphQLErrors.is(error)) {
    const wire: WireErrorValue = {
      name: error.name,
      message: error.message,
      errors: error.errors.map((e) => ({ ...e })),
    };
    if (error.data != null) wire.data = error.data;
    return wire;
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an error from its wire form, as the same class when it is a `CombinedGraphQLErrors`. */
export function errorFromWire(wire: WireErrorValue): Error {
  if (wire.name === 'CombinedGraphQLErrors' && wire.errors) {
    const error = new CombinedGraphQLErrors(
      {
        data: wire.data as Record<string, unknown> | null | undefined,
        errors: wire.errors as never,
      },
      wire.errors as never,
    );
    return error;
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}
