/**
 * @module
 * @kiln/emotion browser entry: the client plugin that pairs with the `emotion()` server plugin,
 * and the cache it builds on.
 */
export type { ClientCache, ClientCacheOptions } from './adopt';
export { createClientCache } from './adopt';
export type { EmotionClientOptions, EmotionClientPlugin } from './client-plugin';
export { emotionClient } from './client-plugin';
export type { KilnEmotionErrorCode } from './errors';
export { KilnEmotionError } from './errors';
