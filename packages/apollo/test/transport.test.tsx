import { canonicalStringify } from '@apollo/client/utilities';
import type { ReactNode } from 'react';
import { afterAll, describe, expect, it } from 'vitest';
import { Mixed, Shop, SuspenseShop } from './fixtures/app';
import { graphqlServerForTests, streamedChunks } from './fixtures/lifecycle';
import { render } from './fixtures/render';

const graphql = graphqlServerForTests();

const pages: [string, () => ReactNode][] = [
  ['shop (useQuery waterfall)', () => <Shop />],
  ['suspense shop', () => <SuspenseShop />],
  ['mixed', () => <Mixed slowMs={10} />],
];

/** Bytes of Apollo state against the whole document, per page and mode (printed at the end). */
const figures: string[] = [];

afterAll(() => {
  console.log(
    ['| page | mode | HTML bytes | Apollo state bytes | share |', '| --- | --- | --- | --- | --- |']
      .concat(figures)
      .join('\n'),
  );
});

/**
 * The transport sends each result once per response: every document text once, every query
 * result (document + variables) once, every error once; a buffered page has one state block.
 */
describe('transport size', () => {
  it.each(pages)('%s, streamed: no result is sent twice', async (name, page) => {
    const out = await render(graphql.server.url, page(), { mode: 'stream', cookie: 'user=Ada' });
    const chunks = streamedChunks(out.html);
    expect(chunks.length).toBeGreaterThan(0);
    const texts = new Map<number, string>();
    for (const chunk of chunks) {
      for (const [id, text] of Object.entries(chunk.d ?? {})) {
        expect(texts.has(Number(id))).toBe(false);
        texts.set(Number(id), text);
      }
    }
    expect(new Set(texts.values()).size).toBe(texts.size);
    const writes = chunks.flatMap((c) => c.w ?? []);
    expect(writes.length).toBeGreaterThan(0);
    const keys = writes.map(([id, variables, , dataId]) =>
      canonicalStringify([texts.get(id), variables ?? {}, dataId ?? null]),
    );
    expect(new Set(keys).size).toBe(keys.length);
    const payloads = writes.map((w) => canonicalStringify(w));
    expect(new Set(payloads).size).toBe(payloads.length);
    const errors = chunks.flatMap((c) => c.e ?? []).map((e) => canonicalStringify(e.slice(0, 2)));
    expect(new Set(errors).size).toBe(errors.length);
    // the count of state bytes matches what the page carries
    const inPage = [...out.html.matchAll(/<script>\(self\.__kilnApollo_apollo[^<]*<\/script>/g)]
      .map((m) => m[0].length)
      .reduce((a, b) => a + b, 0);
    expect(out.apollo.bytes).toBe(inPage);
    figures.push(
      `| ${name} | stream | ${out.html.length} | ${inPage} | ${((100 * inPage) / out.html.length).toFixed(1)} % |`,
    );
  });

  it.each(pages)('%s, buffered: one state block and nothing streamed', async (name, page) => {
    const out = await render(graphql.server.url, page(), { mode: 'buffer', cookie: 'user=Ada' });
    expect(streamedChunks(out.html)).toEqual([]);
    const blocks = [
      ...out.html.matchAll(/<script[^>]*data-kiln-state="apollo"[^>]*>.*?<\/script>/gs),
    ];
    expect(blocks).toHaveLength(1);
    expect(out.apollo.bytes).toBe(blocks[0]![0].length);
    figures.push(
      `| ${name} | buffer | ${out.html.length} | ${out.apollo.bytes} | ${((100 * Number(out.apollo.bytes)) / out.html.length).toFixed(1)} % |`,
    );
  });
});
