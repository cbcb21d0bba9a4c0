/**
 * @module
 * @kiln/serialize browser entry.
 */
export const name: string = '@kiln/serialize/client';
