/**
 * @module
 * @kiln/emotion browser entry.
 */
export const name: string = '@kiln/emotion/client';
