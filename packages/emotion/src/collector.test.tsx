import createCache from '@emotion/cache';
import { CacheProvider } from '@emotion/react';
import createEmotionServer from '@emotion/server/create-instance';
import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import type { ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { cssRules } from '../test/css';
import { alice, bob, Page, type Visitor } from '../test/page';
import { collectStyles } from './collector';
import { KilnEmotionError } from './errors';

/** The page rendered with a collector, and the style elements it produced, parsed back. */
function renderCollected(app: ReactNode) {
  const collector = collectStyles(createCache({ key: 'css' }));
  const body = renderToString(<CacheProvider value={collector.cache}>{app}</CacheProvider>);
  const head = collector.drain('n0nce');
  const document = parseDocument(
    `<!DOCTYPE html><html><head>${head}</head><body>${body}</body></html>`,
  );
  const styles = findAll(document, 'style').map((node) => ({
    dataEmotion: attr(node, 'data-emotion') ?? '',
    nonce: attr(node, 'nonce'),
    css: textOf(node),
  }));
  return { body, head, styles, collector, document };
}

/** What emotion's own `extractCritical` finds in the HTML of the same page rendered with its own cache. */
function oracle(visitor: Visitor): string[] {
  const cache = createCache({ key: 'css' });
  const { extractCritical } = createEmotionServer(cache);
  const html = renderToString(
    <CacheProvider value={cache}>
      <Page visitor={visitor} />
    </CacheProvider>,
  );
  return cssRules(extractCritical(html).css);
}

/** Undoes the escape of `</style` (a CSS escape of `/`, same meaning). */
const unescapeCss = (css: string) => css.replace(/<\\\/(style)/gi, '</$1');

describe('collectStyles', () => {
  it('emits the same rules as extractCritical, for two visitors whose CSS differs', () => {
    const sets: string[][] = [];
    for (const visitor of [alice, bob]) {
      const { styles } = renderCollected(<Page visitor={visitor} />);
      const ours = styles.flatMap((s) => cssRules(unescapeCss(s.css)));
      const theirs = oracle(visitor);
      expect(ours.length).toBeGreaterThan(10);
      expect(new Set(ours).size).toBe(ours.length);
      expect([...ours].sort()).toEqual([...theirs].sort());
      sets.push(ours);
    }
    const [a, b] = sets as [string[], string[]];
    expect(a.filter((rule) => !b.includes(rule)).length).toBeGreaterThan(0);
    expect(b.filter((rule) => !a.includes(rule)).length).toBeGreaterThan(0);
  });

  it('puts each Global in its own element named as the client Global looks for it, keyframes with the class rules', () => {
    const { styles } = renderCollected(<Page visitor={alice} />);
    const globals = styles.filter((s) => s.dataEmotion.startsWith('css-global '));
    expect(globals).toHaveLength(1);
    expect(globals[0]!.dataEmotion.split(' ')).toHaveLength(2);
    expect(globals[0]!.css).toContain('body{');
    expect(globals[0]!.css).not.toContain('@keyframes');
    const regular = styles.filter((s) => s.dataEmotion.startsWith('css '));
    expect(regular).toHaveLength(1);
    const ids = regular[0]!.dataEmotion.split(' ').slice(1);
    const keyframes = ids.filter((id) => id.startsWith('animation-'));
    expect(keyframes).toHaveLength(2);
    for (const id of keyframes) expect(regular[0]!.css).toContain(`@keyframes ${id}{`);
    // every class used in the markup has its id in the element the client cache adopts
    const { body } = renderCollected(<Page visitor={alice} />);
    for (const [, id] of body.matchAll(/class="css-([a-z0-9]+)"/g)) expect(ids).toContain(id);
    // globals come first, as the browser's <Global> puts them before the cache's rules
    expect(styles[0]!.dataEmotion.startsWith('css-global ')).toBe(true);
  });

  it('renders no <style> next to components (compat mode), so :nth-child counts the same', () => {
    const { body } = renderCollected(<Page visitor={bob} />);
    expect(body).not.toContain('<style');
  });

  it('keeps `</style>` from user data inside its element and puts the nonce on every tag', () => {
    const { styles, document } = renderCollected(<Page visitor={bob} />);
    expect(findAll(document, 'script')).toHaveLength(0);
    expect(styles.length).toBeGreaterThan(1);
    for (const style of styles) expect(style.nonce).toBe('n0nce');
    const badge = styles.find((s) => s.css.includes('::after'));
    expect(unescapeCss(badge!.css)).toContain('content:"</style><script>alert(1)</script>"');
  });

  it('drains only what was inserted since the last drain', () => {
    const collector = collectStyles(createCache({ key: 'k' }));
    renderToString(
      <CacheProvider value={collector.cache}>
        <Page visitor={alice} />
      </CacheProvider>,
    );
    const first = collector.drain();
    expect(first).toContain('data-emotion="k ');
    expect(collector.drain()).toBe('');
    renderToString(
      <CacheProvider value={collector.cache}>
        <Page visitor={bob} />
      </CacheProvider>,
    );
    const second = collector.drain();
    const ids = (html: string) =>
      [...html.matchAll(/data-emotion="([^"]+)"/g)].flatMap((m) => m[1]!.split(' ').slice(1));
    expect(ids(second).length).toBeGreaterThan(0);
    for (const id of ids(second)) expect(ids(first)).not.toContain(id);
    expect(collector.stats()).toMatchObject({ styles: collector.styles.length });
  });

  it('refuses a cache that already collects for another render', () => {
    const cache = createCache({ key: 'css' });
    collectStyles(cache);
    expect(() => collectStyles(cache)).toThrow(KilnEmotionError);
    try {
      collectStyles(cache);
    } catch (error) {
      expect((error as KilnEmotionError).code).toBe('EMOTION_INVALID_CACHE');
      expect((error as Error).message).toMatch(/^\[kiln\/emotion\] .+; create a new cache/);
    }
  });
});
