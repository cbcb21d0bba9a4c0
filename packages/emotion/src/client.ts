/**
 * @module
 * @kiln/emotion browser entry: the client plugin that pairs with the `emotion()` server plugin,
 * and the cache it builds on.
 */

// The plugin: the browser half of emotion(), for hydrate().
export type { EmotionClientOptions, EmotionClientPlugin } from './client-plugin';
export { emotionClient } from './client-plugin';

// The cache: emotion's cache that adopts the styles the server sent.
export type { ClientCache, ClientCacheOptions } from './adopt';
export { createClientCache } from './adopt';

// Errors: the error class and its stable codes.
export type { KilnEmotionErrorCode } from './errors';
export { KilnEmotionError } from './errors';
