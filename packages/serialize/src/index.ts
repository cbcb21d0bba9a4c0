/**
 * @module
 * @kiln/serialize server entry.
 */
export const name: string = '@kiln/serialize';
