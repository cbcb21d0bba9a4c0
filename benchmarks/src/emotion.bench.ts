/**
 * @module
 * `pnpm bench emotion`: the cost of critical CSS with `@kiln/emotion` against emotion's own
 * `extractCriticalToChunks`, on the shop page and on a page with 10× the HTML and the same
 * rules, and what the whole plugin adds to a buffered `renderToHtml`.
 */
import createCache, { type EmotionCache } from '@emotion/cache';
import { CacheProvider, type SerializedStyles } from '@emotion/react';
import createEmotionServer from '@emotion/server/create-instance';
import { renderToHtml } from '@kiln/core';
import { collectStyles, emotion } from '@kiln/emotion';
import { createElement, type ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { compare, markdownTable, quick, saveResults } from './harness';
import { buildCatalogue, money, REVIEWS_PER_PRODUCT, viewerFor } from './shop/data';
import { HeaderView, ProductCardView, ReviewListView } from './shop/page';
import type { Product, Review, Viewer } from './shop/queries';

const catalogue = buildCatalogue();
const viewerRecord = viewerFor('ada')!;
const viewer: Viewer = { __typename: 'Viewer', ...viewerRecord };

const products: Product[] = catalogue.products.map((record) => {
  const price = Math.round(record.priceCents * 0.9);
  return {
    __typename: 'Product',
    id: record.id,
    name: record.name,
    description: record.description,
    price: { __typename: 'Money', ...money(price, viewer.currency) },
    listPrice: { __typename: 'Money', ...money(record.priceCents, viewer.currency) },
    rating: record.rating,
    reviewCount: record.reviewCount,
    stock: record.stock,
    badge: record.badge,
    color: record.color,
  };
});

const reviews = (id: string): Review[] =>
  (catalogue.reviews.get(id) ?? [])
    .slice(0, REVIEWS_PER_PRODUCT)
    .map((review) => ({ __typename: 'Review', ...review }));

/** The shop page's markup with its data in place; `repeat` copies of the grid (same rules, `repeat`× the HTML). */
function page(repeat: number): ReactNode {
  const cards: ReactNode[] = [];
  for (let copy = 0; copy < repeat; copy++) {
    for (const product of products) {
      cards.push(
        createElement(ProductCardView, {
          key: `${copy}-${product.id}`,
          product,
          reviews: createElement(ReviewListView, { reviews: reviews(product.id) }),
        }),
      );
    }
  }
  return createElement(
    'div',
    null,
    createElement(HeaderView, { viewer }),
    createElement('ul', null, cards),
  );
}

type InsertCall = [selector: string, serialized: SerializedStyles, shouldCache: boolean];

/** Renders `app` with an emotion cache set up by `prepare`; returns the HTML and the cache. */
function render(app: ReactNode, prepare: (cache: EmotionCache) => void) {
  const cache = createCache({ key: 'css' });
  prepare(cache);
  const html = renderToString(createElement(CacheProvider, { value: cache }, app));
  return { html, cache };
}

/** Emotion's way: the render filled a compat cache; the critical CSS is found by scanning the HTML. */
function emotionInput(app: ReactNode) {
  let server!: ReturnType<typeof createEmotionServer>;
  const { html } = render(app, (cache) => {
    server = createEmotionServer(cache);
  });
  return () => server.constructStyleTagsFromChunks(server.extractCriticalToChunks(html));
}

/**
 * Kiln's way: everything the plugin does for critical CSS, replayed on a fresh cache per
 * sample: the inserts the render made (through the collector) and the tags.
 */
function kilnInput(app: ReactNode) {
  const calls: InsertCall[] = [];
  render(app, (cache) => {
    collectStyles(cache);
    const insert = cache.insert;
    cache.insert = (selector, serialized, sheet, shouldCache) => {
      calls.push([selector, serialized, shouldCache]);
      return insert(selector, serialized, sheet, shouldCache);
    };
  });
  return () => {
    const collector = collectStyles(createCache({ key: 'css' }));
    const { cache } = collector;
    for (const [selector, serialized, shouldCache] of calls) {
      cache.insert(selector, serialized, cache.sheet, shouldCache);
    }
    return collector.drain();
  };
}

/** Runs the emotion benchmark and returns its Markdown tables. */
export default async function run(): Promise<string> {
  const one = page(1);
  const ten = page(10);
  const sizes = {
    pageBytes: render(one, () => {}).html.length,
    tenBytes: render(ten, () => {}).html.length,
  };
  const emotionOne = emotionInput(one);
  const emotionTen = emotionInput(ten);
  const kilnOne = kilnInput(one);
  const kilnTen = kilnInput(ten);
  // Both produce the same rules for both sizes.
  const ruleCount = (tags: string) => tags.split('}').length;
  if (
    ruleCount(kilnOne()) !== ruleCount(kilnTen()) ||
    emotionOne().length !== emotionTen().length
  ) {
    throw new Error('[kiln/benchmarks] emotion: the 10× page does not use the same rules');
  }

  const critical = await compare({
    title: 'critical CSS per page',
    baseline: 'emotion extractCriticalToChunks, page',
    rounds: quick ? 3 : 200,
    warmup: quick ? 1 : 20,
    rows: [
      { name: 'emotion extractCriticalToChunks, page', run: emotionOne },
      { name: 'emotion extractCriticalToChunks, 10× HTML', run: emotionTen },
      { name: 'kiln collector, page', run: kilnOne },
      { name: 'kiln collector, 10× HTML', run: kilnTen },
    ],
  });

  const buffered = (plugins: boolean) => async () => {
    const body = plugins
      ? one
      : createElement(CacheProvider, { value: createCache({ key: 'css' }) }, one);
    const app = createElement(
      'html',
      { lang: 'en' },
      createElement('head', null, createElement('title', null, 'Kiln Pottery')),
      createElement('body', null, body),
    );
    const result = await renderToHtml(app, {
      mode: 'buffer',
      plugins: plugins ? [emotion()] : [],
    });
    const html = await result.text();
    if (result.status !== 200)
      throw new Error(`[kiln/benchmarks] emotion: render failed (${result.status})`);
    return html;
  };
  const overhead = await compare({
    title: 'emotion plugin on a buffered renderToHtml (shop page)',
    baseline: 'renderToHtml, emotion inline styles (no plugin)',
    rounds: quick ? 3 : 40,
    warmup: quick ? 1 : 5,
    rows: [
      { name: 'renderToHtml, emotion inline styles (no plugin)', run: buffered(false) },
      { name: 'renderToHtml + emotion() plugin', run: buffered(true) },
    ],
  });

  const byName = (name: string) => critical.find((row) => row.name === name)!.medianMs;
  const growth = {
    emotion:
      byName('emotion extractCriticalToChunks, 10× HTML') /
      byName('emotion extractCriticalToChunks, page'),
    kiln: byName('kiln collector, 10× HTML') / byName('kiln collector, page'),
  };
  saveResults('emotion', { sizes, critical, overhead, growth });
  return [
    markdownTable('critical CSS per page', critical),
    `Page ${(sizes.pageBytes / 1024).toFixed(0)} KB, 10× page ${(sizes.tenBytes / 1024).toFixed(0)} KB, same rules. ` +
      `Growth for 10× HTML: emotion ${growth.emotion.toFixed(2)}×, kiln ${growth.kiln.toFixed(2)}×.`,
    '',
    markdownTable('emotion plugin on a buffered renderToHtml (shop page)', overhead),
  ].join('\n');
}
