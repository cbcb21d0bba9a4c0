/**
 * @module
 * @kiln/emotion server entry.
 */
export const name: string = '@kiln/emotion';
