import { Writable } from 'node:stream';
import createCache, { type EmotionCache } from '@emotion/cache';
import createEmotionServer from '@emotion/server/create-instance';
import { renderToHtml } from '@kiln/core';
import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { describe, expect, it } from 'vitest';
import { App, lateProducts } from '../test/app';
import { cssRules } from '../test/css';
import { alice, bob, type Product, type Visitor } from '../test/page';
import { emotionClient } from './client-plugin';
import { KilnEmotionError } from './errors';
import { emotion } from './plugin';

const unescapeCss = (css: string) => css.replace(/<\\\/(style)/gi, '</$1');

/** A promise the test resolves when it wants the late boundary to finish. */
function gate(): { promise: Promise<Product[]>; open(): void } {
  let open!: () => void;
  const promise = new Promise<Product[]>((resolve) => {
    open = () => resolve(lateProducts);
  });
  return { promise, open };
}

/** The emotion `<style>` elements of a document, parsed like a browser does. */
function emotionStyles(html: string) {
  return findAll(parseDocument(html), 'style')
    .filter((node) => attr(node, 'data-emotion') !== undefined)
    .map((node) => ({
      dataEmotion: attr(node, 'data-emotion')!,
      nonce: attr(node, 'nonce'),
      css: textOf(node),
    }));
}

/** The rules Kiln sent, as a sorted list. */
function sentRules(html: string): string[] {
  return emotionStyles(html)
    .flatMap((style) => cssRules(unescapeCss(style.css)))
    .sort();
}

/** Renders with the plugin and keeps the request's cache, for the oracle. */
async function renderWithCache(
  visitor: Visitor,
  late: Promise<Product[]>,
  mode: 'buffer' | 'stream',
  nonce?: string,
) {
  let cache!: EmotionCache;
  const plugin = emotion({
    cache: () => {
      cache = createCache({ key: 'css' });
      return cache;
    },
  });
  const result = await renderToHtml(<App visitor={visitor} late={late} />, {
    mode,
    plugins: [plugin],
    ...(nonce ? { nonce } : {}),
  });
  return { result, cache: () => cache };
}

/** emotion's `extractCritical` on the same HTML (markup only: Kiln's style elements removed) and the same cache. */
function oracle(html: string, cache: EmotionCache): string[] {
  const markup = html.replace(/<style[^>]*data-emotion[^>]*>[\s\S]*?<\/style>/g, '');
  return cssRules(createEmotionServer(cache).extractCritical(markup).css).sort();
}

describe('emotion() through renderToHtml', () => {
  it('buffered: the head holds exactly the rules extractCritical finds, for two visitors', async () => {
    const rulesByVisitor: string[][] = [];
    for (const visitor of [alice, bob]) {
      const { result, cache } = await renderWithCache(
        visitor,
        Promise.resolve(lateProducts),
        'buffer',
      );
      const html = await result.text();
      const head = html.slice(0, html.indexOf('</head>'));
      const body = html.slice(html.indexOf('<body'));
      expect(body).not.toContain('<style');
      const ours = sentRules(head);
      expect(ours).toEqual(sentRules(html));
      expect(ours).toEqual(oracle(html, cache()));
      expect(ours.length).toBeGreaterThan(10);
      rulesByVisitor.push(ours);
      expect(result.diagnostics.plugins.emotion).toMatchObject({
        key: 'css',
        styles: expect.any(Number),
      });
    }
    const [a, b] = rulesByVisitor as [string[], string[]];
    expect(a).not.toEqual(b);
  });

  it('streaming: the rules of a late Suspense boundary arrive before its markup', async () => {
    const late = gate();
    const { result, cache } = await renderWithCache(alice, late.promise, 'stream');
    const chunks: string[] = [];
    const done = new Promise<void>((resolve) => {
      const sink = new Writable({
        write(chunk, _encoding, callback) {
          chunks.push(String(chunk));
          callback();
        },
      });
      sink.on('finish', resolve);
      result.pipe(sink);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const shell = chunks.join('');
    expect(shell).toContain('id="loading"');
    expect(shell).not.toContain('id="late"');
    late.open();
    await done;
    const html = chunks.join('');
    const after = html.slice(shell.length);
    // The late boundary's own rules were not in the shell's head; they come right before its markup.
    const lateStyles = emotionStyles(after);
    expect(lateStyles.length).toBeGreaterThan(0);
    const lateList = /<ul id="late" class="css-([a-z0-9]+)"/.exec(after)![1]!;
    const item = /<li class="css-([a-z0-9]+)"/.exec(after)![1]!;
    expect(shell).not.toContain(lateList);
    const styleAt = after.indexOf(`.css-${lateList}{`);
    const itemRuleAt = after.indexOf(`.css-${item}{`);
    const markupAt = after.indexOf('<ul id="late"');
    expect(styleAt).toBeGreaterThan(-1);
    expect(itemRuleAt).toBeGreaterThan(-1);
    expect(styleAt).toBeLessThan(markupAt);
    expect(itemRuleAt).toBeLessThan(markupAt);
    // The late boundary's Global is streamed in its own element, named for the client's <Global>.
    expect(lateStyles.some((s) => /^css-global [a-z0-9]+$/.test(s.dataEmotion))).toBe(true);
    // Nothing is sent twice, and everything emotion would extract is there.
    const ours = sentRules(html);
    expect(new Set(ours).size).toBe(ours.length);
    expect(ours).toEqual(oracle(html, cache()));
  });

  it('a boundary that times out: every written class is styled, the plugin reports nothing', async () => {
    const never = new Promise<Product[]>(() => {});
    const errors: unknown[] = [];
    const result = await renderToHtml(<App visitor={alice} late={never} />, {
      mode: 'stream',
      timeoutMs: 50,
      plugins: [emotion()],
      onError: (_error, info) => errors.push(info.phase),
    });
    const html = await result.text();
    expect(html).toContain('id="loading"');
    expect(html).not.toContain('id="late"');
    const ids = emotionStyles(html).flatMap((style) => style.dataEmotion.split(' ').slice(1));
    for (const [, id] of html.matchAll(/class="css-([a-z0-9]+)"/g)) expect(ids).toContain(id);
    expect(sentRules(html).some((rule) => rule.includes('outline:3px solid #2980b9'))).toBe(false);
    expect(errors).not.toContain('plugin');
  });

  it('two requests rendering at once each get only their own rules', async () => {
    const lateA = gate();
    const lateB = gate();
    const [a, b] = await Promise.all([
      renderWithCache(alice, lateA.promise, 'stream'),
      renderWithCache(bob, lateB.promise, 'stream'),
    ]);
    const texts = Promise.all([a.result.text(), b.result.text()]);
    // Interleave: finish Bob's late boundary first, then Alice's.
    await new Promise((resolve) => setTimeout(resolve, 5));
    lateB.open();
    await new Promise((resolve) => setTimeout(resolve, 5));
    lateA.open();
    const [htmlA, htmlB] = await texts;
    const rulesA = sentRules(htmlA);
    const rulesB = sentRules(htmlB);
    expect(rulesA).toEqual(oracle(htmlA, a.cache()));
    expect(rulesB).toEqual(oracle(htmlB, b.cache()));
    const onlyB = rulesB.filter((rule) => !rulesA.includes(rule));
    const onlyA = rulesA.filter((rule) => !rulesB.includes(rule));
    expect(onlyA.length).toBeGreaterThan(0);
    expect(onlyB.length).toBeGreaterThan(0);
    for (const rule of onlyB) expect(htmlA).not.toContain(rule);
    for (const rule of onlyA) expect(htmlB).not.toContain(rule);
    expect(htmlA).toContain('#8e44ad');
    expect(htmlA).not.toContain('#16a085');
    expect(htmlB).toContain('#16a085');
    expect(htmlB).not.toContain('#8e44ad');
  });

  for (const mode of ['buffer', 'stream'] as const) {
    it(`${mode}: every style element carries the nonce and </style> in data stays inside it`, async () => {
      const late = gate();
      setTimeout(late.open, 10);
      const { result } = await renderWithCache(bob, late.promise, mode, 'r4nd0m');
      const html = await result.text();
      const document = parseDocument(html);
      const styles = findAll(document, 'style');
      expect(styles.length).toBeGreaterThanOrEqual(mode === 'stream' ? 4 : 3);
      for (const style of styles) expect(attr(style, 'nonce')).toBe('r4nd0m');
      for (const script of findAll(document, 'script')) {
        expect(textOf(script)).not.toContain('alert(1)');
      }
      const badge = styles.map(textOf).find((css) => css.includes('::after'))!;
      expect(unescapeCss(badge)).toContain('content:"</style><script>alert(1)</script>";');
      // Every rule of every element parsed back whole: no element was cut short.
      expect(sentRules(html).every((rule) => rule.endsWith('}'))).toBe(true);
    });
  }

  for (const mode of ['buffer', 'stream'] as const) {
    it(`${mode}: the nonce of the cache (createCache({ nonce })) goes on every emotion style`, async () => {
      const late = gate();
      if (mode === 'buffer') late.open();
      const result = await renderToHtml(<App visitor={bob} late={late.promise} />, {
        mode,
        plugins: [emotion({ cache: () => createCache({ key: 'css', nonce: 'c4che"n' }) })],
      });
      const text = result.text();
      late.open();
      const html = await text;
      const styles = emotionStyles(html);
      expect(styles.length).toBeGreaterThanOrEqual(mode === 'stream' ? 4 : 3);
      for (const style of styles) expect(style.nonce).toBe('c4che"n');
    });
  }

  it('the same nonce on the cache and renderToHtml is written once per style', async () => {
    const result = await renderToHtml(
      <App visitor={alice} late={Promise.resolve(lateProducts)} />,
      {
        mode: 'buffer',
        nonce: 'r4nd0m',
        plugins: [emotion({ cache: (ctx) => createCache({ key: 'css', nonce: ctx.nonce }) })],
      },
    );
    const html = await result.text();
    expect(result.status).toBe(200);
    for (const tag of html.match(/<style[^>]*>/g) ?? []) {
      expect(tag.match(/nonce=/g)).toHaveLength(1);
      expect(tag).toContain('nonce="r4nd0m"');
    }
  });

  it('reports a cache nonce that differs from the renderToHtml nonce', async () => {
    const errors: unknown[] = [];
    const result = await renderToHtml(
      <App visitor={alice} late={Promise.resolve(lateProducts)} />,
      {
        mode: 'buffer',
        nonce: 'r4nd0m',
        plugins: [emotion({ cache: () => createCache({ key: 'css', nonce: 'other' }) })],
        onError: (error) => errors.push(error),
      },
    );
    await result.text();
    expect(result.status).toBe(500);
    const cause = (errors[0] as { cause?: KilnEmotionError }).cause;
    expect(cause).toBeInstanceOf(KilnEmotionError);
    expect(cause?.code).toBe('EMOTION_NONCE_MISMATCH');
    expect(cause?.message).toMatch(/^\[kiln\/emotion\] .*nonce.*createCache/);
  });

  it('uses the key for class names and data-emotion', async () => {
    const result = await renderToHtml(
      <App visitor={alice} late={Promise.resolve(lateProducts)} />,
      {
        mode: 'buffer',
        plugins: [emotion({ key: 'shop' })],
      },
    );
    const html = await result.text();
    expect(html).toMatch(/<style data-emotion="shop [a-z0-9 -]+">/);
    expect(html).toMatch(/<style data-emotion="shop-global [a-z0-9]+">/);
    expect(html).toMatch(/class="shop-[a-z0-9]+"/);
    expect(html).not.toMatch(/class="css-/);
  });

  it('rejects a bad key or a cache option that is not a factory, with a code', () => {
    expect(() => emotion({ key: 'Bad Key' })).toThrow(
      expect.objectContaining({ code: 'EMOTION_INVALID_KEY' }),
    );
    expect(() => emotion({ cache: createCache({ key: 'css' }) as never })).toThrow(
      KilnEmotionError,
    );
    expect(() => emotionClient({ key: 'css1' })).toThrow(
      expect.objectContaining({ code: 'EMOTION_INVALID_KEY' }),
    );
  });

  it('reports a cache whose key differs from the key option', async () => {
    const errors: unknown[] = [];
    const result = await renderToHtml(
      <App visitor={alice} late={Promise.resolve(lateProducts)} />,
      {
        mode: 'buffer',
        plugins: [emotion({ key: 'shop', cache: () => createCache({ key: 'css' }) })],
        onError: (error) => errors.push(error),
      },
    );
    await result.text();
    expect(result.status).toBe(500);
    expect(errors).toContainEqual(
      expect.objectContaining({
        cause: expect.objectContaining({ code: 'EMOTION_INVALID_CACHE' }),
      }),
    );
  });

  it('reports a cache factory that returns one cache for two requests', async () => {
    const shared = createCache({ key: 'css' });
    const errors: unknown[] = [];
    const plugin = emotion({ cache: () => shared });
    const render = () =>
      renderToHtml(<App visitor={alice} late={Promise.resolve(lateProducts)} />, {
        mode: 'buffer',
        plugins: [plugin],
        onError: (error) => errors.push(error),
      });
    await (await render()).text();
    expect(errors).toEqual([]);
    const second = await render();
    await second.text();
    expect(second.status).toBe(500);
    expect(errors).toContainEqual(
      expect.objectContaining({
        cause: expect.objectContaining({ code: 'EMOTION_INVALID_CACHE' }),
      }),
    );
  });
});
