/**
 * The shop rendered without Kiln: the floor, the data-then-render limit and the hand-rolled
 * pipeline a team would write with the official tools (Apollo's `prerenderStatic`, emotion's
 * `extractCriticalToChunks`, serialize-javascript).
 */

import { Writable } from 'node:stream';
import type { NormalizedCacheObject } from '@apollo/client';
import { prerenderStatic } from '@apollo/client/react/ssr';
import createEmotionServer from '@emotion/server/create-instance';
import type { GraphQLSchema } from 'graphql';
import type { ReactNode } from 'react';
import { renderToPipeableStream, renderToString } from 'react-dom/server';
import serializeJavascript from 'serialize-javascript';
import { fillCache, makeClient } from './client';
import { ShopPage, ShopSuspensePage } from './page';
import { makeEmotionCache, withProviders } from './providers';

/** Which page variant to render. */
export type Variant = 'query' | 'suspense';

/** One request to the shop. */
export interface ShopRequest {
  /** The schema to execute against. */
  schema: GraphQLSchema;
  /** The visitor's `user` cookie; undefined for a guest. */
  user?: string | undefined;
  /** Called once per GraphQL operation. */
  onOperation?: (operationName: string | undefined) => void;
  /** Options of each client's `InMemoryCache` (default: none). */
  cache?: import('@apollo/client').InMemoryCacheConfig;
}

/** The page element of a variant (no providers). */
export function pageOf(variant: Variant): ReactNode {
  return variant === 'query' ? <ShopPage /> : <ShopSuspensePage />;
}

/** The global variable the hand-rolled page puts the Apollo cache in. */
export const APOLLO_STATE_GLOBAL = '__APOLLO_STATE__';

/** The HTML document around the app's markup, as a hand-rolled server writes it. */
export function documentHtml(parts: { head: string; body: string; state: string }): string {
  return (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>' +
    `<title>Kiln Pottery</title>${parts.head}</head><body><div id="root">${parts.body}</div>` +
    `<script>window.${APOLLO_STATE_GLOBAL}=${parts.state}</script>` +
    '<script type="module" src="/assets/client.js"></script></body></html>'
  );
}

/**
 * Fetches everything the page needs for `user` and returns the cache's contents, to be restored
 * into fresh clients by {@link renderFloor}.
 */
export async function snapshot(request: ShopRequest): Promise<NormalizedCacheObject> {
  const client = makeClient(request);
  await fillCache(client);
  const data = client.extract() as NormalizedCacheObject;
  client.stop();
  return data;
}

/**
 * The floor: `renderToString` of the page into a fresh client whose cache was restored from
 * `data` (so no operation runs) and a fresh emotion cache in extraction mode. Nothing else: no
 * document, no styles, no state.
 */
export function renderFloor(
  request: ShopRequest,
  data: NormalizedCacheObject,
  variant: Variant = 'query',
): string {
  const client = makeClient({ ...request, restore: data });
  const emotionCache = makeEmotionCache();
  createEmotionServer(emotionCache);
  const html = renderToString(withProviders(pageOf(variant), { client, emotionCache }));
  client.stop();
  return html;
}

/**
 * The limit of any data strategy: the page's 62 operations fetched with `client.query()` into a
 * fresh cache, then one `renderToString`.
 */
export async function renderDataThenRender(request: ShopRequest): Promise<string> {
  const client = makeClient(request);
  await fillCache(client);
  const emotionCache = makeEmotionCache();
  createEmotionServer(emotionCache);
  const html = renderToString(withProviders(<ShopPage />, { client, emotionCache }));
  client.stop();
  return html;
}

/**
 * The hand-rolled pipeline for the `useQuery` page: `prerenderStatic` renders with
 * `renderToString` until no query is left to fetch (its last pass is the HTML), emotion's
 * `extractCriticalToChunks` collects the critical CSS, serialize-javascript writes the cache.
 */
export async function renderHandRolled(request: ShopRequest): Promise<string> {
  const client = makeClient(request);
  const emotionCache = makeEmotionCache();
  const { extractCriticalToChunks, constructStyleTagsFromChunks } =
    createEmotionServer(emotionCache);
  try {
    const { result } = await prerenderStatic({
      tree: withProviders(<ShopPage />, { client, emotionCache }),
      renderFunction: renderToString,
    });
    const chunks = extractCriticalToChunks(result);
    return documentHtml({
      head: constructStyleTagsFromChunks(chunks),
      body: chunks.html,
      state: serializeJavascript(client.extract(), { isJSON: true }),
    });
  } finally {
    client.stop();
  }
}

/**
 * The `useSuspenseQuery` page rendered by React's own stream and collected at `onAllReady`
 * (the official way to wait for every boundary), then styled and given its state like the
 * hand-rolled pipeline.
 */
export function renderSuspenseAllReady(request: ShopRequest): Promise<string> {
  const client = makeClient(request);
  const emotionCache = makeEmotionCache();
  const { extractCriticalToChunks, constructStyleTagsFromChunks } =
    createEmotionServer(emotionCache);
  return new Promise<string>((resolve, reject) => {
    const chunks: string[] = [];
    const { pipe } = renderToPipeableStream(
      withProviders(<ShopSuspensePage />, { client, emotionCache }),
      {
        progressiveChunkSize: Number.MAX_SAFE_INTEGER,
        onAllReady() {
          const sink = new Writable({
            write(chunk: Buffer | string, _encoding, callback) {
              chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
              callback();
            },
            final(callback) {
              callback();
              const html = chunks.join('');
              const styled = extractCriticalToChunks(html);
              resolve(
                documentHtml({
                  head: constructStyleTagsFromChunks(styled),
                  body: styled.html,
                  state: serializeJavascript(client.extract(), { isJSON: true }),
                }),
              );
            },
          });
          pipe(sink);
        },
        onShellError: reject,
        onError(error) {
          reject(error);
        },
      },
    );
  }).finally(() => client.stop());
}
