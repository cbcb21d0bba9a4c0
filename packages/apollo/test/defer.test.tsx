import { InMemoryCache } from '@apollo/client';
import { type RenderErrorInfo, type RenderMode, type RenderResult, renderToHtml } from '@kiln/core';
import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { parse as parseGraphQL } from 'graphql';
import type { ReactNode } from 'react';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apollo, forwardHeaders } from '../src/index';
import type { StreamChunk } from '../src/shared/transport';
import { DeferPage, DeferUseQueryPage, deferClient, PRODUCT_PAGE } from './fixtures/defer-app';
import { type DeferServer, startDeferServer } from './fixtures/defer-server';
import { bufferedStateOf, streamedChunks, textById } from './fixtures/lifecycle';

let gql: DeferServer;

beforeAll(async () => {
  gql = await startDeferServer();
});
afterAll(async () => {
  await gql?.close();
});
beforeEach(() => {
  gql.reset();
});

interface Started {
  result: RenderResult;
  errors: { error: unknown; info: RenderErrorInfo }[];
  /** Reads the response until `html` (everything read so far) satisfies `until`. */
  readUntil(until: (html: string) => boolean): Promise<string>;
  /** Reads the response to its end. */
  readAll(): Promise<string>;
}

/** Starts a render; resolves when `renderToHtml` resolves (shell ready while streaming). */
async function start(
  app: ReactNode,
  user: string,
  mode: RenderMode,
  timeoutMs?: number,
): Promise<Started> {
  const errors: Started['errors'] = [];
  const result = await renderToHtml(
    <html lang="en">
      <head>
        <title>defer</title>
      </head>
      <body>{app}</body>
    </html>,
    {
      request: new Request('http://localhost/', { headers: { cookie: `user=${user}` } }),
      mode,
      plugins: [apollo({ makeClient: (ctx) => deferClient(gql.url, forwardHeaders(ctx)) })],
      onError: (error, info) => errors.push({ error, info }),
      ...(timeoutMs ? { timeoutMs } : {}),
    },
  );
  const reader = result.toResponse().body!.getReader();
  const decoder = new TextDecoder();
  let html = '';
  let done = false;
  const readUntil = async (until: (html: string) => boolean): Promise<string> => {
    while (!done && !until(html)) {
      const next = await reader.read();
      if (next.done) done = true;
      else html += decoder.decode(next.value, { stream: true });
    }
    return html;
  };
  return { result, errors, readUntil, readAll: () => readUntil(() => false) };
}

/** Replays the streamed cache writes into a fresh cache, as the browser does. */
function replay(chunks: StreamChunk[]): InMemoryCache {
  const cache = new InMemoryCache();
  const docs = new Map<number, string>();
  for (const chunk of chunks) {
    for (const [id, text] of Object.entries(chunk.d ?? {})) docs.set(Number(id), text);
    for (const [id, variables, result, dataId] of chunk.w ?? []) {
      cache.write({
        query: parseGraphQL(docs.get(id)!),
        variables,
        result,
        ...(dataId === undefined ? {} : { dataId }),
      });
    }
  }
  return cache;
}

function reviewTexts(html: string): string[] {
  const list = findAll(parseDocument(html), 'ul').find((ul) => attr(ul, 'id') === 'reviews');
  return list ? findAll(list, 'li').map(textOf) : [];
}

const fallbacks = (html: string): string[] =>
  findAll(parseDocument(html), 'p')
    .filter((p) => attr(p, 'class') === 'fallback')
    .map(textOf);

const finalData = {
  product: {
    __typename: 'Product',
    id: 'p1',
    name: 'Lamp p1 for Ada',
    reviews: [
      { __typename: 'Review', id: 'p1-r1', text: 'Review 1 of p1 for Ada' },
      { __typename: 'Review', id: 'p1-r2', text: 'Review 2 of p1 for Ada' },
    ],
    stock: 3,
  },
};

describe('@defer with useSuspenseQuery, streamed', () => {
  it('sends the initial payload in the shell and each deferred fragment into its boundary, data first', async () => {
    // renderToHtml resolves at shell-ready while both deferred parts wait at their gates
    const page = await start(<DeferPage />, 'Ada', 'stream');
    expect(page.result.status).toBe(200);
    const shell = await page.readUntil((html) => html.includes('</main>'));
    expect(textById(shell, 'name')).toBe('Lamp p1 for Ada');
    expect(fallbacks(shell)).toEqual(['loading reviews', 'loading stock']);
    expect(shell).not.toContain('Review 1');
    // the shell's data: the initial payload, without the deferred fields
    const early = streamedChunks(shell).flatMap((c) => c.w ?? []);
    expect(early.length).toBeGreaterThan(0);
    expect(JSON.stringify(early)).not.toContain('reviews');
    await gql.waiting('reviews', 'Ada');
    gql.open('reviews', 'Ada');
    gql.open('stock', 'Ada');
    const html = await page.readAll();
    // the data of the deferred parts is sent before the segments that show it
    const dataAt = html.indexOf('Review 1 of p1 for Ada');
    const segmentAt = html.indexOf('<div hidden id="S:');
    expect(dataAt).toBeGreaterThan(shell.length);
    expect(segmentAt).toBeGreaterThan(dataAt);
    expect(reviewTexts(html.slice(segmentAt))).toEqual([
      'Review 1 of p1 for Ada',
      'Review 2 of p1 for Ada',
    ]);
    expect(html).toContain('<p id="stock">stock <!-- -->3</p>');
    // one request; Apollo's own hook joined the server fetch instead of sending another
    expect(gql.operations).toEqual(['ProductPage']);
    // the browser's cache, fed with what was streamed, holds the merged final result
    const chunks = streamedChunks(html);
    const cache = replay(chunks);
    const diff = cache.diff({ query: PRODUCT_PAGE, variables: { id: 'p1' }, optimistic: false });
    expect(diff.complete).toBe(true);
    expect(diff.result).toEqual(finalData);
    // each part sent once; the browser stops waiting for the operation once it is complete
    const writes = chunks.flatMap((c) => c.w ?? []).map((w) => JSON.stringify(w));
    expect(new Set(writes).size).toBe(writes.length);
    expect(writes).toHaveLength(2);
    expect(chunks.flatMap((c) => c.f ?? [])).toHaveLength(1);
    expect(page.errors).toEqual([]);
    await page.result.finished;
  });

  it('isolates two concurrent requests whose deferred parts arrive in the opposite order', async () => {
    const [ada, bob] = await Promise.all([
      start(<DeferPage />, 'Ada', 'stream'),
      start(<DeferPage />, 'Bob', 'stream'),
    ]);
    await Promise.all([gql.waiting('reviews', 'Ada'), gql.waiting('reviews', 'Bob')]);
    gql.open('reviews', 'Bob');
    gql.open('stock', 'Bob');
    const bobHtml = await bob.readAll();
    gql.open('reviews', 'Ada');
    gql.open('stock', 'Ada');
    const adaHtml = await ada.readAll();
    expect(reviewTexts(adaHtml)).toEqual(['Review 1 of p1 for Ada', 'Review 2 of p1 for Ada']);
    expect(reviewTexts(bobHtml)).toEqual(['Review 1 of p1 for Bob', 'Review 2 of p1 for Bob']);
    expect(adaHtml).not.toContain('Bob');
    expect(bobHtml).not.toContain('Ada');
    expect(bobHtml).toContain('stock <!-- -->3');
    expect(gql.operations).toEqual(['ProductPage', 'ProductPage']);
  });
});

describe('@defer, buffered', () => {
  it('waits for every deferred part and embeds the merged final result', async () => {
    const pending = start(<DeferPage />, 'Ada', 'buffer');
    await gql.waiting('reviews', 'Ada');
    await gql.waiting('stock', 'Ada');
    gql.open('stock', 'Ada');
    gql.open('reviews', 'Ada');
    const page = await pending;
    const html = await page.readAll();
    expect(textById(html, 'name')).toBe('Lamp p1 for Ada');
    expect(reviewTexts(html)).toEqual(['Review 1 of p1 for Ada', 'Review 2 of p1 for Ada']);
    expect(html).toContain('<p id="stock">stock <!-- -->3</p>');
    expect(fallbacks(html)).toEqual([]);
    expect(streamedChunks(html)).toEqual([]);
    const cache = new InMemoryCache();
    cache.restore(bufferedStateOf(html).cache as never);
    const diff = cache.diff({ query: PRODUCT_PAGE, variables: { id: 'p1' }, optimistic: false });
    expect(diff.result).toEqual(finalData);
    expect(gql.operations).toEqual(['ProductPage']);
  });
});

describe('@defer with useQuery', () => {
  it.each(['stream', 'buffer'] as const)(
    'renders the final result on the server (%s)',
    async (mode) => {
      const pending = start(<DeferUseQueryPage />, 'Ada', mode);
      await gql.waiting('reviews', 'Ada');
      await gql.waiting('stock', 'Ada');
      gql.open('stock', 'Ada');
      gql.open('reviews', 'Ada');
      const html = await (await pending).readAll();
      expect(textById(html, 'name')).toBe('Lamp p1 for Ada');
      expect(textById(html, 'stock')).toBe('stock 3');
      expect(textById(html, 'review-count')).toBe('2 reviews');
      expect(html).not.toContain('class="loading"');
      expect(gql.operations).toEqual(['ProductPage']);
    },
  );
});

describe('a timeout while a deferred part is pending', () => {
  it.each(['stream', 'buffer'] as const)(
    'gives the page with the initial payload and the loading UI of that part, and no wrong data (%s)',
    async (mode) => {
      // the deferred parts wait at their gates past the timeout; the timeout only has to leave
      // time for the initial payload (the shell)
      const pending = start(<DeferPage />, 'Ada', mode, 2_000);
      await gql.waiting('reviews', 'Ada');
      const page = await pending;
      expect(page.result.status).toBe(200);
      const html = await page.readAll();
      await page.result.finished;
      expect(textById(html, 'name')).toBe('Lamp p1 for Ada');
      expect(reviewTexts(html)).toEqual([]);
      expect(fallbacks(html)).toEqual(['loading reviews', 'loading stock']);
      expect(html).toContain('</html>');
      // what the browser receives is the initial payload, nothing half-merged
      const sent =
        mode === 'stream'
          ? replay(streamedChunks(html))
          : new InMemoryCache().restore(bufferedStateOf(html).cache as never);
      expect(sent.extract()).toEqual({
        ROOT_QUERY: { __typename: 'Query', 'product({"id":"p1"})': { __ref: 'Product:p1' } },
        'Product:p1': { __typename: 'Product', id: 'p1', name: 'Lamp p1 for Ada' },
      });
      if (mode === 'stream') {
        // the browser is told the server gave up the operation, and fetches it itself
        expect(streamedChunks(html).flatMap((c) => c.f ?? [])).toHaveLength(1);
      }
      // the request in flight was cancelled and nothing else left the server
      await expect.poll(() => gql.aborted).toEqual(['ProductPage']);
      expect(gql.operations).toEqual(['ProductPage']);
      expect(page.errors.map((e) => (e.error as { code?: string }).code)).toContain('KILN_TIMEOUT');
    },
  );
});
