/**
 * @module
 * @kiln/emotion server entry: the `emotion()` plugin for `renderToHtml`, which sends the
 * critical CSS of each page from the styles its render inserted, buffered or streamed.
 */
export type { CollectedStyle, CollectorStats, StyleCollector } from './collector';
export { collectStyles } from './collector';
export type { KilnEmotionErrorCode } from './errors';
export { KilnEmotionError } from './errors';
export { escapeStyleText } from './escape';
export type { EmotionOptions } from './plugin';
export { emotion } from './plugin';
