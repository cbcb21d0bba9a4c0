/**
 * emotion's own server tests, run through Kiln (see cases.tsx for the upstream files and
 * commit). Every case is rendered buffered, streamed, and streamed with each part behind its own
 * late Suspense boundary, and compared with emotion's own output for the same tree, rule by rule
 * (formatting aside):
 *
 * - every rule emotion's `extractCritical` finds is sent, and nothing the render did not insert;
 * - no rule is sent twice;
 * - every class in the markup is defined by an earlier style element, which lists its id;
 * - every style emotion inserted is under an attribute emotion's browser code adopts:
 *   `data-emotion="<key> <ids…>"` (the cache) or `"<key>-global <name>"` (a `<Global>`);
 *   `@emotion/css` globals and keyframes only under the first (browser.test.tsx shows in
 *   Chromium that nothing is inserted again on hydration);
 * - every style element carries the nonce (the cache's, else the render's).
 */
import type { EmotionCache } from '@emotion/cache';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cssRules } from '../css';
import { cases } from './cases';
import { KILN_NONCE, renderWithEmotion, renderWithKiln, styleElements } from './render';
import type { RenderMode } from './tree';

const MODES: RenderMode[] = ['buffer', 'stream', 'late'];

/** The classes of the markup (outside style elements) that have CSS in `cache`, where they occur. */
function styledClasses(html: string, key: string, cache: EmotionCache) {
  const markup = html.replace(/<style[\s\S]*?<\/style>/g, (text) => ' '.repeat(text.length));
  const used: { id: string; at: number }[] = [];
  for (const match of markup.matchAll(/class="([^"]*)"/g)) {
    for (const name of match[1]!.split(' ')) {
      const id = name.slice(key.length + 1);
      if (name.startsWith(`${key}-`) && cache.inserted[id]) used.push({ id, at: match.index });
    }
  }
  return used;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(cases)('$name', (c) => {
  it.each(MODES)('%s', async (mode) => {
    const consoleError = vi.spyOn(console, 'error');
    const { html, cache, cssGlobals, errors } = await renderWithKiln(c, mode);
    const emotionOutput = renderWithEmotion(c);
    expect(errors).toEqual([]);
    expect(consoleError).not.toHaveBeenCalled();

    if (mode === 'late') {
      // Each part was behind a boundary that resolved after the shell, in order.
      const parts = c.build().parts.length;
      for (let i = 0; i < parts; i++) {
        expect(html.indexOf(`data-fallback="${i}"`)).toBeLessThan(html.indexOf(`data-part="${i}"`));
        if (i > 0) {
          expect(html.indexOf(`data-part="${i - 1}"`)).toBeLessThan(
            html.indexOf(`data-part="${i}"`),
          );
        }
      }
    }

    const styles = styleElements(html);
    const ours = styles.flatMap((style) => cssRules(style.css));

    // Every rule emotion extracts is there, nothing foreign, nothing twice.
    for (const rule of emotionOutput.critical) expect(ours).toContain(rule);
    for (const rule of ours) expect(emotionOutput.inserted).toContain(rule);
    expect(ours.length).toBe(new Set(ours).size);

    // The nonce on every style (emotion's own APIs write the cache's nonce).
    for (const style of styles) expect(style.nonce).toBe(c.cacheNonce ?? KILN_NONCE);

    const cacheElements = styles.filter((s) => s.dataEmotion?.startsWith(`${c.key} `));
    const globalElements = styles.filter((s) => s.dataEmotion?.startsWith(`${c.key}-global `));
    expect(cacheElements.length + globalElements.length).toBe(styles.length);
    const cacheIds = new Map<string, number>();
    for (const style of cacheElements) {
      for (const id of style.dataEmotion!.split(' ').slice(1)) {
        expect(cacheIds.has(id)).toBe(false);
        cacheIds.set(id, style.at);
      }
    }
    const globalNames = new Set(globalElements.map((s) => s.dataEmotion!.split(' ')[1]!));

    // Every class of the markup is defined before it, by an element that lists its id.
    const used = styledClasses(html, c.key, cache);
    for (const { id, at } of used) {
      expect(cacheIds.get(id), `${id} is defined`).toBeDefined();
      expect(cacheIds.get(id)!).toBeLessThan(at);
    }
    // As many styled elements as in emotion's own render of the tree.
    expect(used.length).toBe(styledClasses(emotionOutput.html, c.key, cache).length);

    // Every style the render inserted is under an attribute emotion's browser code adopts.
    for (const [name, css] of Object.entries(cache.inserted)) {
      if (typeof css !== 'string' || css === '') continue;
      const [first, ...keyframes] = name.split(' ');
      for (const id of keyframes) expect(cacheIds.has(id)).toBe(true);
      if (cssGlobals.has(name)) {
        // An @emotion/css global or keyframes: adopted by the cache, as renderStylesToString writes it.
        expect(cacheIds.has(first!), `${first} is adopted by the cache`).toBe(true);
      } else {
        expect(cacheIds.has(first!) || globalNames.has(first!), `${first} is adopted`).toBe(true);
      }
    }
  });
});
