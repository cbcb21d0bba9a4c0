/**
 * @module
 * `pnpm bench apollo`: the shop page's data on the server, through Apollo Client, with and
 * without Kiln. Rows: the floor (`renderToString` with the cache already full), data-then-render
 * (the 62 operations fetched with `client.query` into a fresh cache, then one `renderToString`:
 * the limit of any approach that fetches through Apollo), Apollo's `prerenderStatic` (n + 1
 * renders), and `renderToHtml` with `@kiln/apollo` for the `useQuery` and the `useSuspenseQuery`
 * page, buffered and streamed. Every row gets a fresh client and emotion cache per sample; Kiln's
 * rows produce the whole document with the data for the browser.
 */
import { prerenderStatic } from '@apollo/client/react/ssr';
import createEmotionServer from '@emotion/server/create-instance';
import { apollo } from '@kiln/apollo';
import { renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { compare, markdownTable, quick, saveResults } from './harness';
import {
  createSchema,
  EMOTION_KEY,
  makeClient,
  makeEmotionCache,
  pageOf,
  renderDataThenRender,
  renderFloor,
  type ShopRequest,
  shopPageProblems,
  snapshot,
  type Variant,
  withProviders,
} from './shop';

const GOAL = 2.0;

/** `prerenderStatic` with `renderToString` on the `useQuery` page; its last pass is the HTML. */
async function renderPrerenderStatic(request: ShopRequest): Promise<string> {
  const client = makeClient(request);
  const emotionCache = makeEmotionCache();
  createEmotionServer(emotionCache);
  try {
    const { result } = await prerenderStatic({
      tree: withProviders(pageOf('query'), { client, emotionCache }),
      renderFunction: renderToString,
    });
    return result;
  } finally {
    client.stop();
  }
}

interface KilnRun {
  html: string;
  figures: Record<string, number | string | boolean>;
}

/** `renderToHtml` of a page variant with the emotion and Apollo plugins: the whole document, styled, with its data. */
async function renderKiln(
  request: ShopRequest,
  variant: Variant,
  mode: 'buffer' | 'stream',
): Promise<KilnRun> {
  const app = pageOf(variant);
  const result = await renderToHtml(
    createElement(
      'html',
      { lang: 'en' },
      createElement('head', null, createElement('title', null, 'Kiln Pottery')),
      createElement('body', null, app),
    ),
    {
      mode,
      plugins: [emotion({ key: EMOTION_KEY }), apollo({ makeClient: () => makeClient(request) })],
      onError: (error) => {
        throw error;
      },
    },
  );
  if (result.status !== 200) throw new Error(`[kiln/benchmarks] apollo: status ${result.status}`);
  const html = await result.text();
  const diagnostics = await result.finished;
  return { html, figures: diagnostics.plugins.apollo ?? {} };
}

/** Runs the Apollo benchmark and returns its Markdown table. */
export default async function run(): Promise<string> {
  const schema = createSchema();
  const request: ShopRequest = { schema, user: 'ada' };
  const data = await snapshot(request);

  // Correctness first: every Kiln row renders the whole page, in one pass, with 62 operations.
  const checks: Record<string, Record<string, number | string | boolean>> = {};
  for (const variant of ['query', 'suspense'] as const) {
    for (const mode of ['buffer', 'stream'] as const) {
      const { html, figures } = await renderKiln(request, variant, mode);
      const problems = shopPageProblems(html, { user: 'ada' });
      if (problems.length > 0) {
        throw new Error(`[kiln/benchmarks] apollo: ${variant}/${mode}: ${problems.join('; ')}`);
      }
      if (figures.operations !== 62 || figures.passes !== 1) {
        throw new Error(
          `[kiln/benchmarks] apollo: ${variant}/${mode} made ${figures.operations} operations in ${figures.passes} passes (expected 62 in 1)`,
        );
      }
      checks[`${variant}/${mode}`] = figures;
    }
  }

  const kiln = (variant: Variant, mode: 'buffer' | 'stream') => async () =>
    (await renderKiln(request, variant, mode)).html;
  const title = 'Apollo data on the server: shop page, 62 operations, in-process schema';
  const stats = await compare({
    title,
    baseline: 'floor (renderToString, cache already full)',
    rounds: quick ? 3 : 30,
    warmup: quick ? 1 : 5,
    rows: [
      { name: 'floor (renderToString, cache already full)', run: () => renderFloor(request, data) },
      {
        name: 'data-then-render (client.query ×62, then renderToString)',
        run: () => renderDataThenRender(request),
      },
      { name: 'Apollo prerenderStatic (useQuery page)', run: () => renderPrerenderStatic(request) },
      { name: 'Kiln useQuery page, buffer', run: kiln('query', 'buffer') },
      { name: 'Kiln useQuery page, stream', run: kiln('query', 'stream') },
      { name: 'Kiln useSuspenseQuery page, buffer', run: kiln('suspense', 'buffer') },
      { name: 'Kiln useSuspenseQuery page, stream', run: kiln('suspense', 'stream') },
    ],
  });
  const ratio = (name: string) => stats.find((row) => row.name === name)!.ratio;
  const kilnQuery = ratio('Kiln useQuery page, buffer');
  const prerender = ratio('Apollo prerenderStatic (useQuery page)');
  saveResults('apollo', { stats, checks, goal: GOAL });
  return [
    markdownTable(title, stats),
    `Kiln, useQuery page (buffer): ${kilnQuery.toFixed(2)}× floor (goal ≤ ${GOAL.toFixed(1)}×: ${kilnQuery <= GOAL ? 'met' : 'missed'}), ` +
      `${(prerender / kilnQuery).toFixed(2)}× faster than prerenderStatic. ` +
      `Kiln rows: 1 render pass and 62 operations each (checked before timing); waterfall depth ${checks['query/buffer']?.waterfallDepth}.`,
  ].join('\n');
}
