import type { EmotionCache } from '@emotion/cache';
import type { SerializedStyles } from '@emotion/react';
import { escapeAttribute } from '@kiln/core';
import { KilnEmotionError } from './errors';
import { escapeStyleText } from './escape';

const COLLECTED: unique symbol = Symbol.for('@kiln/emotion/collected');

type StyleSheet = EmotionCache['sheet'];

/**
 * One style inserted by a render, as emotion compiled it.
 *
 * @example
 * ```ts
 * import type { CollectedStyle } from '@kiln/emotion';
 *
 * const rulesOnly = (styles: readonly CollectedStyle[]) => styles.filter((s) => s.kind === 'rule');
 * ```
 */
export interface CollectedStyle {
  /** `global` for a `<Global>` (one element each, adopted by that component on the client); `rule` for class rules and keyframes (adopted by the client cache). */
  readonly kind: 'global' | 'rule';
  /** The emotion name (the id in `data-emotion`). */
  readonly name: string;
  /** The compiled CSS. */
  readonly css: string;
}

/**
 * Figures about what a collector saw (also in `result.diagnostics.plugins.emotion`).
 *
 * @example
 * ```ts
 * import type { CollectorStats } from '@kiln/emotion';
 *
 * const log = (stats: CollectorStats) => console.log(`${stats.styles} styles, ${stats.cssBytes} B`);
 * ```
 */
export interface CollectorStats {
  /** Styles recorded (globals, class rules and keyframes), each once. */
  styles: number;
  /** Style elements produced by `drain()`. */
  tags: number;
  /** Bytes of CSS produced by `drain()`. */
  cssBytes: number;
}

/**
 * Records the styles a render inserts into an emotion cache, in insertion order, and turns
 * the ones not yet sent into `<style data-emotion>` elements.
 *
 * The cache is switched to emotion's `compat` mode: on the server, components then put their
 * compiled CSS in the cache instead of rendering `<style>` elements next to their markup
 * (which would shift `:nth-child` selectors and differ from the client's tree).
 *
 * @example
 * ```ts
 * import createCache from '@emotion/cache';
 * import { collectStyles, type StyleCollector } from '@kiln/emotion';
 *
 * const collector: StyleCollector = collectStyles(createCache({ key: 'css' }));
 * // …render with collector.cache, then:
 * const headHtml = collector.drain();
 * ```
 */
export interface StyleCollector {
  /** The request's emotion cache. */
  readonly cache: EmotionCache;
  /** Every style recorded so far, in insertion order. */
  readonly styles: readonly CollectedStyle[];
  /**
   * The `<style>` elements for the styles recorded since the last call: one element per
   * `<Global>` (`data-emotion="<key>-global <name>"`), then one element with the class rules
   * and keyframes (`data-emotion="<key> <ids…>"`). Empty string when nothing is new.
   */
  drain(nonce?: string): string;
  /** What the collector did so far. */
  stats(): CollectorStats;
}

/** Whether `node` is reachable from `head` through `next` links. */
function inChain(head: SerializedStyles | undefined, node: SerializedStyles): boolean {
  for (let current = head; current !== undefined; current = current.next) {
    if (current === node) return true;
  }
  return false;
}

/**
 * Splits what emotion's server `<Global>` inserts (its own styles followed by the keyframes
 * it uses, names joined by spaces) into its parts, so the keyframes can go to the cache the
 * way a browser render puts them. Undefined when the text does not have that shape.
 */
function splitGlobal(
  names: string[],
  styles: string,
): { own: string; keyframes: { name: string; styles: string }[] } | undefined {
  const starts: number[] = [];
  let from = 0;
  for (let i = 1; i < names.length; i++) {
    const at = styles.indexOf(`@keyframes ${names[i]}{`, from);
    if (at === -1) return undefined;
    starts.push(at);
    from = at + 1;
  }
  const keyframes = starts.map((start, i) => ({
    name: names[i + 1]!,
    styles: styles.slice(start, starts[i + 1] ?? styles.length),
  }));
  return { own: styles.slice(0, starts[0]), keyframes };
}

/**
 * Whether an insert with an empty selector comes from `@emotion/css` (`injectGlobal` or
 * `keyframes` of an instance) rather than from `@emotion/react`'s `<Global>`. emotion's browser
 * code adopts the first kind through the cache (`data-emotion="<key> <ids…>"`, as
 * `renderStylesToString` writes them) and the second through the `<Global>` that claims
 * `data-emotion="<key>-global <name>"`; each kind must go out under its own attribute.
 *
 * `injectGlobal` inserts `serializeStyles`' result as is (it has a `next` field); `keyframes`
 * inserts `{ name, styles: '@keyframes animation-<name>{…}' }`. `<Global>` inserts a fresh
 * `{ name, styles }` whose styles are its own rules (emotion 11.14, covered by the ported tests).
 */
function fromEmotionCss(serialized: SerializedStyles): boolean {
  return (
    Object.hasOwn(serialized, 'next') ||
    serialized.styles.startsWith(`@keyframes animation-${serialized.name}{`)
  );
}

function styleTag(dataEmotion: string, css: string, nonce: string | undefined): string {
  const nonceAttribute = nonce === undefined ? '' : ` nonce="${escapeAttribute(nonce)}"`;
  return `<style data-emotion="${escapeAttribute(dataEmotion)}"${nonceAttribute}>${escapeStyleText(css)}</style>`;
}

/**
 * Starts recording the styles inserted into `cache` (see {@link StyleCollector}). Use one
 * cache and one collector per request.
 *
 * @example
 * ```tsx
 * import createCache from '@emotion/cache';
 * import { CacheProvider } from '@emotion/react';
 * import { renderToString } from 'react-dom/server';
 * import { collectStyles } from '@kiln/emotion';
 *
 * const collector = collectStyles(createCache({ key: 'css' }));
 * const body = renderToString(<CacheProvider value={collector.cache}><p>hi</p></CacheProvider>);
 * const html = `<head>${collector.drain()}</head><body>${body}</body>`;
 * ```
 */
export function collectStyles(cache: EmotionCache): StyleCollector {
  const marked = cache as EmotionCache & { [COLLECTED]?: true };
  if (marked[COLLECTED]) {
    throw new KilnEmotionError(
      'EMOTION_INVALID_CACHE',
      'this emotion cache is already collecting the styles of another render; create a new cache (createCache()) for every request',
    );
  }
  marked[COLLECTED] = true;
  cache.compat = true;
  const insert = cache.insert;
  const styles: CollectedStyle[] = [];
  let sent = 0;
  let chain: SerializedStyles | undefined;
  let tags = 0;
  let cssBytes = 0;

  const add = (
    kind: CollectedStyle['kind'],
    selector: string,
    serialized: SerializedStyles,
    sheet: StyleSheet,
  ): void => {
    if (cache.inserted[serialized.name] !== undefined) return;
    insert(selector, serialized, sheet, true);
    const css = cache.inserted[serialized.name];
    if (typeof css === 'string') styles.push({ kind, name: serialized.name, css });
  };

  // Styles inserted before the render (an `@emotion/css` instance's `injectGlobal`, `keyframes`
  // or `css` called when its components were defined) are the page's too, as for emotion's
  // `extractCritical`; they go out first, adopted by the browser cache.
  for (const [name, css] of Object.entries(cache.inserted)) {
    if (typeof css === 'string') styles.push({ kind: 'rule', name, css });
  }

  cache.insert = (selector, serialized, sheet, shouldCache) => {
    if (!shouldCache) return insert(selector, serialized, sheet, shouldCache);
    if (selector !== '') {
      // A class rule; the keyframes it uses follow as `next` links, inserted right after.
      chain = serialized.next;
      add('rule', selector, serialized, sheet);
      return;
    }
    if (inChain(chain, serialized)) {
      chain = serialized.next;
      add('rule', selector, serialized, sheet);
      return;
    }
    chain = undefined;
    if (fromEmotionCss(serialized)) {
      add('rule', selector, serialized, sheet);
      return;
    }
    const names = serialized.name.split(' ');
    const parts = names.length > 1 ? splitGlobal(names, serialized.styles) : undefined;
    if (parts === undefined) {
      add('global', selector, serialized, sheet);
      return;
    }
    for (const keyframes of parts.keyframes) add('rule', '', keyframes, sheet);
    add('global', '', { name: names[0]!, styles: parts.own }, sheet);
  };

  return {
    cache,
    styles,
    drain(nonce) {
      if (sent === styles.length) return '';
      let html = '';
      let ids = '';
      let css = '';
      for (let i = sent; i < styles.length; i++) {
        const style = styles[i]!;
        cssBytes += style.css.length;
        if (style.kind === 'global') {
          html += styleTag(`${cache.key}-global ${style.name}`, style.css, nonce);
          tags++;
        } else {
          ids += ` ${style.name}`;
          css += style.css;
        }
      }
      sent = styles.length;
      if (ids !== '') {
        html += styleTag(cache.key + ids, css, nonce);
        tags++;
      }
      return html;
    },
    stats: () => ({ styles: styles.length, tags, cssBytes }),
  };
}
