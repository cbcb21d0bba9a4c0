/**
 * @module
 * `pnpm bench serialize`: `@kiln/serialize` against `JSON.stringify`, `JSON.stringify` plus the
 * same HTML escaping, devalue, seroval, serialize-javascript and superjson, on these payloads:
 * the shop page's own Apollo state (`client.extract()` after the page's 62 operations, with its
 * hostile review texts), a content-heavy cache (about 1 MB of long HTML-like article bodies), a
 * real Apollo `InMemoryCache.extract()` of many shop pages (about 1 MB), and a rich payload
 * (Dates, Maps, Sets, BigInts, shared references and cycles). Then `parse` against `JSON.parse`
 * and the other readers. Every row is checked for a faithful round trip before it is timed.
 */
import { InMemoryCache } from '@apollo/client';
import { parse, serialize } from '@kiln/serialize';
import * as devalue from 'devalue';
import serializeJavascript from 'serialize-javascript';
import * as seroval from 'seroval';
import superjson from 'superjson';
import { compare, markdownTable, quick, type Row, saveResults } from './harness';
import { fillCache, makeClient } from './shop/client';
import { buildCatalogue, money, random, SEED } from './shop/data';
import { PRODUCTS_QUERY, REVIEWS_QUERY } from './shop/queries';
import { createSchema } from './shop/schema';

/** The Apollo state of the shop page itself: the cache after the page's 62 operations. */
async function shopState(): Promise<Record<string, unknown>> {
  const client = makeClient({ schema: createSchema(), user: 'ada' });
  await fillCache(client);
  return client.extract() as Record<string, unknown>;
}

const WORDS = [
  'stoneware',
  'glaze',
  'kiln',
  'crème',
  'atelier',
  'café',
  'porcelain',
  'wheel',
  'firing',
  'ash',
  'celadon',
  'raku',
  'studio',
  'hand-built',
  'Kyoto',
  'Søren',
] as const;

/**
 * A content-heavy normalised cache, as a CMS-backed page carries: a root query listing articles,
 * each with a title, an excerpt and a long HTML body (paragraphs, links with query strings,
 * entities, emphasis, typographic dashes and quotes), generated from a fixed seed until the JSON
 * reaches `targetBytes`.
 */
function contentCache(targetBytes: number): Record<string, unknown> {
  const next = random(SEED + 7);
  const word = () => WORDS[Math.floor(next() * WORDS.length)]!;
  const sentence = (n: number) => Array.from({ length: n }, word).join(' ');
  const cache: Record<string, unknown> = {};
  const refs: { __ref: string }[] = [];
  cache.ROOT_QUERY = { __typename: 'Query', 'articles({"first":1000})': refs };
  let bytes = 0;
  for (let i = 0; bytes < targetBytes; i++) {
    const paragraphs: string[] = [];
    for (let p = 0; p < 6 + Math.floor(next() * 6); p++) {
      paragraphs.push(
        `<p>${sentence(12)} <a href="/journal/${i}?ref=home&amp;p=${p}">${word()}</a> — ${sentence(8)}, <em>“${word()}”</em> &amp; ${sentence(6)}.</p>`,
      );
    }
    const id = `a${i}`;
    const article = {
      __typename: 'Article',
      id,
      slug: `journal-${i}`,
      title: `${sentence(4)} № ${i}`,
      excerpt: `<p>${sentence(20)}…</p>`,
      body: `<article><h2>${sentence(5)}</h2>${paragraphs.join('\n')}<figure><img src="/img/${i}.jpg" alt="${word()}"><figcaption>${sentence(7)}</figcaption></figure></article>`,
      publishedAt: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString(),
    };
    cache[`Article:${id}`] = article;
    refs.push({ __ref: `Article:${id}` });
    bytes += JSON.stringify(article).length + id.length + 40;
  }
  return cache;
}

const UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

const LESS_THAN = /</g;

/** What a careful hand-written page does: `JSON.stringify`, then escape for `<script>`. */
function stringifyEscaped(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (char) => ESCAPES[char]!);
}

/**
 * A real Apollo cache of shop pages: each page writes the products query (60 products with
 * prices) and one reviews query per product, as the shop page does. Pages are added, each with
 * its own catalogue, until the extracted cache reaches `targetBytes` of JSON.
 */
function apolloCache(targetBytes: number): Record<string, unknown> {
  const cache = new InMemoryCache();
  const currencies = ['USD', 'EUR', 'JPY'] as const;
  for (let page = 0; ; page++) {
    const catalogue = buildCatalogue(SEED + page);
    const currency = currencies[page % 3]!;
    const prefix = `s${page}-`;
    const products = catalogue.products.map((record) => ({
      __typename: 'Product' as const,
      id: prefix + record.id,
      name: record.name,
      description: record.description,
      price: {
        __typename: 'Money' as const,
        ...money(Math.round(record.priceCents * 0.9), currency),
      },
      listPrice: { __typename: 'Money' as const, ...money(record.priceCents, currency) },
      rating: record.rating,
      reviewCount: record.reviewCount,
      stock: record.stock,
      badge: record.badge,
      color: record.color,
    }));
    cache.writeQuery({
      query: PRODUCTS_QUERY,
      variables: { first: 60 + page, currency, tier: null },
      data: { products },
    });
    for (const record of catalogue.products) {
      const reviews = (catalogue.reviews.get(record.id) ?? []).map((review) => ({
        __typename: 'Review' as const,
        ...review,
        id: prefix + review.id,
      }));
      cache.writeQuery({
        query: REVIEWS_QUERY,
        variables: { productId: prefix + record.id, first: reviews.length },
        data: { reviews },
      });
    }
    const extracted = cache.extract() as Record<string, unknown>;
    if (JSON.stringify(extracted).length >= targetBytes) return extracted;
  }
}

/** A deep copy of plain data whose strings carry none of the characters that need escaping in HTML. */
function withoutHtmlCharacters(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[<>&\u2028\u2029]/g, '·');
  if (Array.isArray(value)) return value.map(withoutHtmlCharacters);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [withoutHtmlCharacters(k), withoutHtmlCharacters(v)]),
    );
  }
  return value;
}

/** Customers and orders with Dates, BigInt totals, Maps of lines, Sets of tags, shared and cyclic references. */
function richPayload(orders: number): unknown {
  const next = random(SEED);
  const customers = Array.from({ length: Math.max(1, Math.floor(orders / 10)) }, (_, i) => ({
    id: `c${i}`,
    name: `Customer ${i} <${i}@example.com>`,
    since: new Date(Date.UTC(2020, 0, 1) + Math.floor(next() * 1500) * 86_400_000),
    tags: new Set(['vip', 'newsletter', 'wholesale'].filter(() => next() < 0.5)),
    orders: [] as unknown[],
  }));
  const list = [];
  for (let i = 0; i < orders; i++) {
    const customer = customers[Math.floor(next() * customers.length)]!;
    const lines = new Map<string, { quantity: number; unitCents: bigint }>();
    for (let l = 0; l < 1 + Math.floor(next() * 5); l++) {
      lines.set(`sku-${Math.floor(next() * 500)}`, {
        quantity: 1 + Math.floor(next() * 4),
        unitCents: BigInt(Math.floor(next() * 1e6)) * 1_000_000_007n,
      });
    }
    const order = {
      id: i,
      customer,
      placedAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(next() * 3e10)),
      shippedAt: next() < 0.3 ? undefined : new Date(Date.UTC(2025, 6, 1)),
      total: [...lines.values()].reduce((sum, line) => sum + line.unitCents, 0n),
      lines,
      note: next() < 0.1 ? 'leave at the door & ring </script>' : null,
    };
    customer.orders.push(order);
    list.push(order);
  }
  return { customers, orders: list, generatedAt: new Date(Date.UTC(2026, 0, 1)) };
}

function kib(text: string): string {
  return `${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`;
}

function check(name: string, ok: boolean): void {
  if (!ok) throw new Error(`[kiln/benchmarks] serialize: ${name} did not round-trip`);
}

async function serializeTable(
  title: string,
  value: unknown,
  options: { rich: boolean },
): Promise<{ table: string; stats: unknown; sizes: Record<string, number> }> {
  const outputs: Record<string, string> = {};
  const rows: Row[] = [];
  const add = (name: string, run: () => string) => {
    outputs[name] = run();
    rows.push({ name, run });
  };
  if (!options.rich) {
    add('JSON.stringify', () => JSON.stringify(value));
    add('JSON.stringify, then read once', () => {
      const text = JSON.stringify(value);
      text.charCodeAt(0);
      return text;
    });
    add('JSON.stringify + escaping', () => stringifyEscaped(value));
    // The least any serializer must do for a `<script>`: escape `<`, in one native pass.
    add('JSON.stringify + `<` only (the least safe)', () =>
      JSON.stringify(value).replace(LESS_THAN, '\\u003c'),
    );
  }
  add('@kiln/serialize', () => serialize(value));
  add('devalue.stringify', () => devalue.stringify(value));
  add('seroval.serialize', () => seroval.serialize(value));
  if (!options.rich) add('serialize-javascript', () => serializeJavascript(value));
  add('superjson.stringify', () => superjson.stringify(value));
  const reference = JSON.stringify(serialize(parse(outputs['@kiln/serialize']!)));
  check(title, reference === JSON.stringify(outputs['@kiln/serialize']));
  if (!options.rich)
    check(title, JSON.stringify(parse(outputs['@kiln/serialize']!)) === outputs['JSON.stringify']);
  const baseline = options.rich ? 'devalue.stringify' : 'JSON.stringify';
  const stats = await compare({ title, baseline, rows, rounds: quick ? 3 : 40 });
  const sizes = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.length]));
  const sizeLine = Object.entries(outputs)
    .map(([k, v]) => `${k} ${kib(v)}`)
    .join(' · ');
  return { table: `${markdownTable(title, stats)}\n\nOutput size: ${sizeLine}.`, stats, sizes };
}

async function parseTable(
  title: string,
  value: unknown,
  options: { rich: boolean },
): Promise<{ table: string; stats: unknown }> {
  const kiln = serialize(value);
  const json = options.rich ? '' : JSON.stringify(value);
  const dv = devalue.stringify(value);
  const sj = superjson.stringify(value);
  const sv = JSON.stringify(seroval.toJSON(value));
  const rows: Row[] = [
    ...(options.rich ? [] : [{ name: 'JSON.parse', run: () => JSON.parse(json) }]),
    { name: '@kiln/serialize parse', run: () => parse(kiln) },
    { name: 'devalue.parse', run: () => devalue.parse(dv) },
    { name: 'seroval.fromJSON', run: () => seroval.fromJSON(JSON.parse(sv)) },
    { name: 'superjson.parse', run: () => superjson.parse(sj) },
  ];
  if (!options.rich) check(title, JSON.stringify(parse(kiln)) === json);
  const baseline = options.rich ? 'devalue.parse' : 'JSON.parse';
  const stats = await compare({ title, baseline, rows, rounds: quick ? 3 : 40 });
  return { table: markdownTable(title, stats), stats };
}

/** Runs the benchmark and returns its Markdown tables. */
export default async function run(): Promise<string> {
  const small = await shopState();
  const content = contentCache(quick ? 20_000 : 1_000_000);
  const large = quick ? small : apolloCache(1_000_000);
  const rich = richPayload(quick ? 50 : 2000);
  const sections = [
    await serializeTable(
      `serialize: the shop page's Apollo state, ${kib(JSON.stringify(small))}`,
      small,
      { rich: false },
    ),
    await serializeTable(
      `serialize: content-heavy cache (HTML article bodies), ${kib(JSON.stringify(content))}`,
      content,
      { rich: false },
    ),
    await serializeTable(
      `serialize: Apollo cache of shop pages, ${kib(JSON.stringify(large))}`,
      large,
      {
        rich: false,
      },
    ),
    await serializeTable(
      `serialize: the shop page's Apollo state, ${kib(JSON.stringify(small))}, no character to escape`,
      withoutHtmlCharacters(small),
      { rich: false },
    ),
    await serializeTable(`serialize: rich payload, ${kib(serialize(rich))}`, rich, { rich: true }),
    await parseTable(`parse: the shop page's Apollo state, ${kib(JSON.stringify(small))}`, small, {
      rich: false,
    }),
    await parseTable(`parse: content-heavy cache, ${kib(JSON.stringify(content))}`, content, {
      rich: false,
    }),
    await parseTable(`parse: Apollo cache of shop pages, ${kib(JSON.stringify(large))}`, large, {
      rich: false,
    }),
    await parseTable(`parse: rich payload, ${kib(serialize(rich))}`, rich, { rich: true }),
  ];
  saveResults(
    'serialize',
    sections.map((s) => s.stats),
  );
  return [
    '## @kiln/serialize',
    '',
    'Plain payloads are compared with `JSON.stringify` / `JSON.parse`. `JSON` cannot carry the rich payload (BigInt throws, cycles throw, Dates and Maps are lost), so its tables use devalue as the baseline; serialize-javascript cannot carry cycles and is left out of them.',
    '',
    ...sections.map((s) => s.table),
  ].join('\n\n');
}
