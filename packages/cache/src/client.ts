/**
 * @module
 * @kiln/cache browser entry.
 */
export const name: string = '@kiln/cache/client';
