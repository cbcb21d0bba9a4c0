import { KilnSerializeError } from './errors';

const KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

/** The attribute that names a state script. */
export const STATE_ATTRIBUTE = 'data-kiln-state';

/** Throws `INVALID_KEY` unless `key` is 1–200 characters of `A-Z a-z 0-9 _ - . :`. */
export function assertStateKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new KilnSerializeError(
      'INVALID_KEY',
      `the state key ${JSON.stringify(String(key)).slice(0, 80)} is not valid`,
      'use 1 to 200 characters of A-Z, a-z, 0-9, "_", "-", "." and ":"',
    );
  }
}
