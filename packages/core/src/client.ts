/**
 * @module
 * @kiln/core browser entry.
 */
export const name: string = '@kiln/core/client';
