import type { EmotionCache } from '@emotion/cache';
import { createCache } from './create-cache';

/**
 * Options of {@link createClientCache}.
 *
 * @example
 * ```ts
 * import { type ClientCacheOptions, createClientCache } from '@kiln/emotion/client';
 *
 * const options: ClientCacheOptions = { key: 'shop' };
 * const { cache } = createClientCache(options);
 * ```
 */
export interface ClientCacheOptions {
  /** The cache key; must match the server plugin's. Default `'css'`. */
  key?: string;
  /**
   * The CSP nonce for the style elements emotion creates in the browser. Default: the nonce of
   * the first server-rendered emotion `<style>` in the document.
   */
  nonce?: string;
  /** The document to read and write (default: the global `document`). */
  document?: Document;
}

/**
 * An emotion cache that also adopts server styles streamed in after it was created.
 *
 * @example
 * ```ts
 * import { type ClientCache, createClientCache } from '@kiln/emotion/client';
 *
 * const client: ClientCache = createClientCache();
 * window.addEventListener('load', () => client.stop());
 * ```
 */
export interface ClientCache {
  /** The emotion cache to give to `CacheProvider`. */
  readonly cache: EmotionCache;
  /** Adopts the server `<style>` elements that arrived since the last call (also done on its own while the page loads). */
  adopt(): void;
  /** Stops watching the document for late server styles (done on its own when parsing ends). */
  stop(): void;
}

function isServerStyle(node: Node, prefix: string): node is HTMLStyleElement {
  return (
    node.nodeName === 'STYLE' &&
    ((node as Element).getAttribute('data-emotion')?.startsWith(prefix) ?? false)
  );
}

/**
 * Creates the browser's emotion cache for a page rendered by the `emotion()` server plugin.
 *
 * emotion's own `createCache` adopts the server's `<style data-emotion="<key> <ids…>">` elements
 * present when it runs: it marks their ids as inserted and moves them into its sheet, so
 * hydration inserts no rule twice. A streamed page keeps receiving such elements (before each
 * late Suspense boundary) after the client started. This cache adopts those too: a
 * `MutationObserver` picks them up while the document is loading, and before inserting a rule
 * the cache first takes the observer's pending records, so a rule whose server element already
 * arrived is never inserted again, whatever the timing.
 *
 * @example
 * ```tsx
 * import { CacheProvider } from '@emotion/react';
 * import { hydrateRoot } from 'react-dom/client';
 * import { createClientCache } from '@kiln/emotion/client';
 * import { App } from './app';
 *
 * const { cache } = createClientCache({ key: 'css' });
 * hydrateRoot(document.getElementById('root')!, <CacheProvider value={cache}><App /></CacheProvider>);
 * ```
 */
export function createClientCache(options: ClientCacheOptions = {}): ClientCache {
  const doc = options.document ?? document;
  const key = options.key ?? 'css';
  const prefix = `${key} `;
  const nonce =
    options.nonce ??
    (doc.querySelector(`style[data-emotion^="${key}"][nonce]`) as HTMLStyleElement | null)?.nonce ??
    undefined;
  const cache = createCache({ key, nonce: nonce || undefined, container: doc.head });
  const adopted = new WeakSet<Node>(cache.sheet.tags);

  const adoptNode = (node: Node): void => {
    if (adopted.has(node) || !isServerStyle(node, prefix)) return;
    adopted.add(node);
    const ids = node.getAttribute('data-emotion')!.split(' ');
    for (let i = 1; i < ids.length; i++) cache.inserted[ids[i]!] = true;
    // The element joins the sheet (in the head, after the styles adopted before it), so the
    // order of rules stays the order the server inserted them.
    cache.sheet.hydrate([node]);
  };

  const scan = (): void => {
    for (const node of Array.from(doc.querySelectorAll(`style[data-emotion^="${prefix}"]`))) {
      adoptNode(node);
    }
  };

  let observer: MutationObserver | undefined;
  const takeRecords = (records: MutationRecord[]): void => {
    for (const record of records) {
      for (const node of Array.from(record.addedNodes)) adoptNode(node);
    }
  };
  const stop = (): void => {
    if (observer === undefined) return;
    takeRecords(observer.takeRecords());
    observer.disconnect();
    observer = undefined;
    scan();
  };

  scan();
  if (doc.readyState === 'loading' && typeof MutationObserver !== 'undefined') {
    observer = new MutationObserver(takeRecords);
    observer.observe(doc, { childList: true, subtree: true });
    doc.addEventListener('DOMContentLoaded', stop, { once: true });
  }

  const insert = cache.insert;
  cache.insert = (selector, serialized, sheet, shouldCache) => {
    if (observer !== undefined) {
      takeRecords(observer.takeRecords());
      if (shouldCache && sheet === cache.sheet && cache.inserted[serialized.name] !== undefined) {
        return;
      }
    }
    return insert(selector, serialized, sheet, shouldCache);
  };

  return {
    cache,
    adopt: () => {
      if (observer !== undefined) takeRecords(observer.takeRecords());
      scan();
    },
    stop,
  };
}
