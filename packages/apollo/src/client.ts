/**
 * @module
 * @kiln/apollo browser entry.
 */
export const name: string = '@kiln/apollo/client';
