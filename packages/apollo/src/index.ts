/**
 * @module
 * @kiln/apollo server entry.
 */
export const name: string = '@kiln/apollo';
