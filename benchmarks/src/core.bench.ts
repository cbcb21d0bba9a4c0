/**
 * @module
 * `pnpm bench core`: the overhead of `@kiln/core` over raw react-dom. The same cache-free page
 * (a few hundred components, four Suspense boundaries that suspend on a macrotask) is rendered
 * by `renderToPipeableStream` into a collecting stream (piped at shell-ready, and at all-ready)
 * and by `renderToHtml` in stream and buffer mode into the same kind of stream. Rows are
 * interleaved in shuffled rounds; the ratio is to raw react-dom streaming. A second table does the
 * same on a realistic page: the shop's `useQuery` page rendered from a full Apollo cache (a client
 * restored from the page's data, so no operation runs) with a fresh emotion cache, in Kiln's
 * document template.
 */
import { Writable } from 'node:stream';
import { renderToHtml } from '@kiln/core';
import { createElement as h, type ReactNode, Suspense, use } from 'react';
import { renderToPipeableStream } from 'react-dom/server';
import { compare, markdownTable, quick, saveResults } from './harness';
import { SHOP_TEMPLATE } from './kiln';
import {
  createSchema,
  makeClient,
  makeEmotionCache,
  ShopPage,
  snapshot,
  withProviders,
} from './shop/index';

const CARDS = 60;

function Card(props: { index: number }): ReactNode {
  const i = props.index;
  return h(
    'article',
    { className: 'card', 'data-index': i },
    h('h2', null, `Product ${i}`),
    h('p', { className: 'price' }, `${(i * 3.75).toFixed(2)} €`),
    h('ul', null, h('li', null, 'fast shipping'), h('li', null, `stock ${i % 7}`)),
    h('button', { type: 'button' }, 'Add to cart'),
  );
}

function Section(props: { wait: Promise<void>; from: number; to: number }): ReactNode {
  use(props.wait);
  const cards: ReactNode[] = [];
  for (let i = props.from; i < props.to; i++) cards.push(h(Card, { key: i, index: i }));
  return h('section', null, cards);
}

/** The page: a shell with a header and 15 cards, then four boundaries of 15 cards each. */
function page(): ReactNode {
  const waits = [0, 1, 2, 3].map(() => new Promise<void>((resolve) => setImmediate(resolve)));
  const shell: ReactNode[] = [];
  for (let i = 0; i < 15; i++) shell.push(h(Card, { key: `s${i}`, index: i }));
  return h(
    'html',
    { lang: 'en' },
    h('head', null, h('meta', { charSet: 'utf-8' }), h('title', null, 'Benchmark shop')),
    h(
      'body',
      null,
      h(
        'header',
        null,
        h('nav', null, h('a', { href: '/' }, 'Home'), h('a', { href: '/cart' }, 'Cart')),
      ),
      h('main', null, shell),
      waits.map((wait, b) =>
        h(
          Suspense,
          { key: b, fallback: h('p', null, 'loading…') },
          h(Section, { wait, from: 15 + b * 15, to: Math.min(CARDS + 15, 30 + b * 15) }),
        ),
      ),
    ),
  );
}

/** A writable that keeps every chunk, as a server response would take them. */
function collector(): { stream: Writable; done: Promise<number> } {
  let bytes = 0;
  let resolve!: (n: number) => void;
  const done = new Promise<number>((r) => {
    resolve = r;
  });
  const chunks: Uint8Array[] = [];
  const stream = new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      chunks.push(chunk);
      bytes += chunk.byteLength;
      callback();
    },
    final(callback) {
      resolve(bytes);
      callback();
    },
  });
  return { stream, done };
}

function raw(at: 'shell' | 'all', element: () => ReactNode = page): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = collector();
    const stream = renderToPipeableStream(element(), {
      onShellReady: at === 'shell' ? () => stream.pipe(out.stream) : undefined,
      onAllReady: at === 'all' ? () => stream.pipe(out.stream) : undefined,
      onShellError: reject,
    });
    out.done.then(resolve, reject);
  });
}

async function kiln(
  mode: 'stream' | 'buffer',
  element: () => ReactNode = page,
  template?: string,
): Promise<number> {
  const out = collector();
  const result = await renderToHtml(element(), template ? { mode, template } : { mode });
  result.pipe(out.stream);
  return out.done;
}

export default async function run(): Promise<string> {
  const sizes = await Promise.all([raw('shell'), kiln('stream'), kiln('buffer')]);
  const stats = await compare({
    title: 'core',
    baseline: 'react-dom renderToPipeableStream (stream)',
    rows: [
      { name: 'react-dom renderToPipeableStream (stream)', run: () => raw('shell') },
      { name: 'react-dom renderToPipeableStream (at all-ready)', run: () => raw('all') },
      { name: 'kiln renderToHtml stream', run: () => kiln('stream') },
      { name: 'kiln renderToHtml buffer', run: () => kiln('buffer') },
    ],
    rounds: quick ? 3 : 200,
    warmup: quick ? 1 : 30,
  });
  const title = `@kiln/core overhead: cache-free page, ${CARDS + 15} cards, 4 Suspense boundaries, ${sizes[0]} bytes`;

  const schema = createSchema();
  const data = await snapshot({ schema, user: 'ada' });
  const shop = () =>
    withProviders(h(ShopPage), {
      client: makeClient({ schema, user: 'ada', restore: data }),
      emotionCache: makeEmotionCache(),
    });
  const shopSizes = await Promise.all([
    raw('shell', shop),
    kiln('stream', shop, SHOP_TEMPLATE),
    kiln('buffer', shop, SHOP_TEMPLATE),
  ]);
  const shopStats = await compare({
    title: 'core, shop page',
    baseline: 'react-dom renderToPipeableStream (stream)',
    rows: [
      { name: 'react-dom renderToPipeableStream (stream)', run: () => raw('shell', shop) },
      { name: 'react-dom renderToPipeableStream (at all-ready)', run: () => raw('all', shop) },
      { name: 'kiln renderToHtml stream', run: () => kiln('stream', shop, SHOP_TEMPLATE) },
      { name: 'kiln renderToHtml buffer', run: () => kiln('buffer', shop, SHOP_TEMPLATE) },
    ],
    rounds: quick ? 3 : 40,
    warmup: quick ? 1 : 5,
  });
  const shopTitle = `@kiln/core overhead: the shop's useQuery page from a full Apollo cache, ${shopSizes[0]} bytes`;
  saveResults('core', { sizes, stats, shopSizes, shopStats });
  return [markdownTable(title, stats), markdownTable(shopTitle, shopStats)].join('\n\n');
}
