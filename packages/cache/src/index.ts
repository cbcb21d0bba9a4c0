/**
 * @module
 * @kiln/cache server entry.
 */
export const name: string = '@kiln/cache';
