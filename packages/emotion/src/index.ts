/**
 * @module
 * @kiln/emotion server entry: the `emotion()` plugin for `renderToHtml`, which sends the
 * critical CSS of each page from the styles its render inserted, buffered or streamed.
 */

// The plugin: emotion's critical CSS in every page rendered by renderToHtml.
export type { EmotionOptions } from './plugin';
export { emotion } from './plugin';

// Collecting by hand: the styles one render inserted, for servers that do not use the plugin.
export type { CollectedStyle, CollectorStats, StyleCollector } from './collector';
export { collectStyles } from './collector';

// Escaping: CSS text made safe inside a <style> element.
export { escapeStyleText } from './escape';

// Errors: the error class and its stable codes.
export type { KilnEmotionErrorCode } from './errors';
export { KilnEmotionError } from './errors';
