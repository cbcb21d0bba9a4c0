/**
 * @module
 * `pnpm bench cache`: the page cache of `@kiln/cache` over HTTP. The shop page (the `useQuery`
 * variant, buffered, with a fresh CSP nonce per response) is served to anonymous visitors by
 * Express 5 in its own process on 127.0.0.1 and loaded by autocannon (10 connections, 5 s after
 * a 2 s warm-up). Rows, one run: the static floor (the same page's bytes, precomputed, one fixed
 * nonce), no cache, the page cache on the memory store, the page cache on the Redis store (a
 * `redis-server` started on a free loopback port for the run and stopped after).
 *
 * Before any load, every server is checked: the guest page is right, the first request is a miss
 * and the second a hit, each response has its own nonce, the same in the CSP header and in every
 * `nonce` attribute, the cached page is the uncached page byte for byte apart from the nonce, and
 * a signed-in visitor bypasses the cache.
 *
 * The server processes run this file (`KILN_CACHE_BENCH_SERVER=<kind>`) through tsx.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { SchemaLink } from '@apollo/client/link/schema';
import { apollo } from '@kiln/apollo';
import { memoryStore, pageCache, type RedisClientLike, redisStore, type Store } from '@kiln/cache';
import { type DataCache, type DataCacheLink, dataCache } from '@kiln/cache/apollo';
import { type RenderOptions, renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { startRedis } from '@kiln/test-utils';
import autocannon from 'autocannon';
import type { GraphQLSchema } from 'graphql';
import {
  benchApp,
  listenForParent,
  newNonce,
  servePrecomputed,
  serveRendered,
} from './bench-server';
import { forkServer, serverCpuMs } from './child-server';
import {
  compare,
  formatMs,
  formatRatio,
  markdownTable,
  quantile,
  quick,
  saveResults,
  shuffle,
} from './harness';
import { SHOP_TEMPLATE } from './kiln';
import { assertShopPage, createSchema, EMOTION_KEY, makeClient, pageOf } from './shop/index';

const SERVER_KINDS = ['static', 'none', 'memory', 'redis'] as const;
type ServerKind = (typeof SERVER_KINDS)[number];

const USER = 'ada';
const CACHE_HEADER = 'x-kiln-cache';
const benchmarksDir = fileURLToPath(new URL('..', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);

/** The node-redis client calls the server process makes (`redis` is loaded from `@kiln/cache`'s dev dependencies). */
interface RedisClient extends RedisClientLike {
  connect(): Promise<unknown>;
}

async function storeFor(kind: 'memory' | 'redis'): Promise<Store> {
  if (kind === 'memory') return memoryStore();
  const { createClient } = createRequire(import.meta.url)('redis') as {
    createClient(options: { url: string }): RedisClient;
  };
  const client = createClient({ url: process.env.REDIS_URL ?? '' });
  client.on('error', (error) => console.error('[kiln/benchmarks] redis:', error.message));
  await client.connect();
  return redisStore(client, { prefix: `kiln-bench:${process.pid}:` });
}

/** The server of one row, in the child process: Express on a free loopback port. */
async function serve(kind: ServerKind): Promise<void> {
  const schema = createSchema({ latencyMs: 0 });
  const optionsFor = (request: RenderOptions['request'], nonce: string): RenderOptions => ({
    request,
    nonce,
    mode: 'buffer',
    template: SHOP_TEMPLATE,
    plugins: [
      apollo({ makeClient: (ctx) => makeClient({ schema, user: ctx.cookies.user }) }),
      emotion({ key: EMOTION_KEY }),
    ],
  });
  const app = benchApp();

  if (kind === 'static') {
    const nonce = newNonce();
    const result = await renderToHtml(
      pageOf('query'),
      optionsFor(new Request('http://localhost/'), nonce),
    );
    servePrecomputed(app, Buffer.from(await result.text()), nonce);
  } else {
    const pages =
      kind === 'none' ? undefined : pageCache({ store: await storeFor(kind), ttl: 3_600_000 });
    serveRendered(
      app,
      (req, nonce) => {
        const options = optionsFor(req, nonce);
        return pages
          ? pages.render(pageOf('query'), options)
          : renderToHtml(pageOf('query'), options);
      },
      async () => pages?.idle(),
    );
  }

  listenForParent(app);
}

interface Started {
  kind: ServerKind;
  origin: string;
  stop(): Promise<void>;
}

async function start(kind: ServerKind, redisUrl: string | undefined): Promise<Started> {
  const server = await forkServer(thisFile, {
    label: `cache server ${kind}`,
    cwd: benchmarksDir,
    execArgv: ['--import', 'tsx', '--conditions=@kiln/source'],
    env: { KILN_CACHE_BENCH_SERVER: kind, REDIS_URL: redisUrl ?? '' },
  });
  return { kind, ...server };
}

interface Fetched {
  status: number;
  cache: string | null;
  nonce: string;
  body: string;
}

async function get(origin: string, user?: string): Promise<Fetched> {
  const response = await fetch(`${origin}/`, {
    headers: user ? { cookie: `user=${encodeURIComponent(user)}` } : {},
  });
  const csp = response.headers.get('content-security-policy') ?? '';
  return {
    status: response.status,
    cache: response.headers.get(CACHE_HEADER),
    nonce: /'nonce-([^']+)'/.exec(csp)?.[1] ?? '',
    body: await response.text(),
  };
}

/** The body with its nonce cut out, after checking that every nonce attribute is the header's. */
function withoutNonce(label: string, page: Fetched): string {
  const attributes = [...page.body.matchAll(/\snonce="([^"]*)"/g)].map((m) => m[1]);
  if (page.nonce.length < 16) throw new Error(`${label}: no nonce in the CSP header`);
  if (attributes.length === 0) throw new Error(`${label}: no nonce attribute in the page`);
  if (attributes.some((nonce) => nonce !== page.nonce)) {
    throw new Error(`${label}: a nonce attribute differs from the CSP header's nonce`);
  }
  return page.body.split(page.nonce).join('NONCE');
}

/** Checks a server's pages; returns the guest page without its nonce. */
async function check(server: Started, reference: string | undefined): Promise<string> {
  const { kind } = server;
  const first = await get(server.origin);
  if (kind !== 'static') await fetch(`${server.origin}/__idle`);
  const second = await get(server.origin);
  for (const page of [first, second]) {
    if (page.status !== 200) throw new Error(`${kind} answered ${page.status}`);
    assertShopPage(kind, page.body, { user: undefined });
  }
  const bodies = [withoutNonce(`${kind} 1st`, first), withoutNonce(`${kind} 2nd`, second)];
  if (bodies[0] !== bodies[1]) throw new Error(`${kind}: two guest pages differ`);
  if (reference !== undefined && bodies[0] !== reference) {
    throw new Error(`${kind}: the guest page differs from the uncached one`);
  }
  if (kind !== 'static' && first.nonce === second.nonce) {
    throw new Error(`${kind}: two responses share a nonce`);
  }
  if (kind === 'memory' || kind === 'redis') {
    if (first.cache !== 'miss' || second.cache !== 'hit') {
      throw new Error(`${kind}: ${CACHE_HEADER} ${first.cache} then ${second.cache}, not miss/hit`);
    }
    const signedIn = await get(server.origin, USER);
    if (signedIn.cache !== 'bypass')
      throw new Error(`${kind}: a signed-in visitor was not bypassed`);
    assertShopPage(`${kind} signed in`, signedIn.body, { user: USER });
  }
  return bodies[0] as string;
}

interface LoadRow {
  kind: ServerKind;
  label: string;
  /** req/s of each round. */
  rounds: number[];
  requests: number;
  errors: number;
  latencyMs: number[];
  cpuMs: number;
}

const ROWS: { kind: ServerKind; label: string }[] = [
  { kind: 'static', label: 'static floor (precomputed bytes)' },
  { kind: 'none', label: 'no cache (render every request)' },
  { kind: 'memory', label: 'page cache, memory store' },
  { kind: 'redis', label: 'page cache, Redis store' },
];

/**
 * The page cache over HTTP: every server started and checked first, then `rounds` rounds in
 * which each server is loaded in turn, in a fresh random order, so that the machine's drift
 * falls on every row alike; req/s is the median over the rounds.
 */
async function pageCacheTable(): Promise<{ table: string; data: unknown }> {
  const seconds = 3;
  const rounds = quick ? 1 : 5;
  const warmupSeconds = quick ? 0 : 2;
  const connections = quick ? 2 : 10;
  const amount = quick ? 4 : undefined;
  const load = (origin: string, duration: number, count?: number) =>
    autocannon({
      url: `${origin}/`,
      connections,
      ...(count ? { amount: count } : { duration }),
      timeout: 30,
    });

  const notes: string[] = [];
  const servers: Started[] = [];
  let redis: { url: string; stop(): Promise<void> } | undefined;
  try {
    redis = await startRedis();
    const url = redis.url;
    const started = await Promise.allSettled(ROWS.map(({ kind }) => start(kind, url)));
    for (const outcome of started) {
      if (outcome.status === 'fulfilled') servers.push(outcome.value);
    }
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    let reference: string | undefined;
    let bytes = 0;
    for (const server of servers) {
      const page = await check(server, server.kind === 'static' ? undefined : reference);
      reference ??= page;
      bytes = Buffer.byteLength(page);
    }
    const rows: LoadRow[] = ROWS.map(({ kind, label }) => ({
      kind,
      label,
      rounds: [],
      requests: 0,
      errors: 0,
      latencyMs: [],
      cpuMs: 0,
    }));
    if (warmupSeconds > 0) {
      for (const server of servers) await load(server.origin, warmupSeconds);
    }
    for (let round = 0; round < rounds; round++) {
      for (const index of shuffle(ROWS.map((_row, i) => i))) {
        const server = servers[index] as Started;
        const row = rows[index] as LoadRow;
        const cpuBefore = await serverCpuMs(server.origin);
        const result = await load(server.origin, seconds, amount);
        row.cpuMs += (await serverCpuMs(server.origin)) - cpuBefore;
        row.rounds.push(result.requests.total / (result.duration || seconds));
        row.requests += result.requests.total;
        row.errors += result.errors + result.non2xx;
        row.latencyMs.push(result.latency.p50);
      }
    }
    for (const row of rows) {
      if (row.errors > 0 || row.requests === 0) {
        notes.push(`${row.label}: ${row.requests} requests completed, ${row.errors} failed`);
      }
    }

    const median = (row: LoadRow | undefined) => (row ? quantile(row.rounds, 0.5) : Number.NaN);
    const floor = median(rows.find((row) => row.kind === 'static'));
    const uncached = median(rows.find((row) => row.kind === 'none'));
    const lines = [
      `### Page cache over HTTP, Express 5, anonymous visitors, autocannon ${connections} connections, ${rounds} interleaved round${rounds > 1 ? 's' : ''} of ${amount ? `${amount} requests` : `${seconds} s`}`,
      '',
      '| server | req/s (median) | × static floor | × no cache | p50 ms (median) | server CPU ms/req |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const row of rows) {
      const reqPerSec = median(row);
      lines.push(
        `| ${row.label} | ${reqPerSec.toFixed(1)} | ${formatRatio(reqPerSec / floor)} | ${formatRatio(reqPerSec / uncached)} | ${formatMs(quantile(row.latencyMs, 0.5))} | ${formatMs(row.requests > 0 ? row.cpuMs / row.requests : Number.NaN)} |`,
      );
    }
    lines.push(
      '',
      `<sub>page: ${bytes} bytes; every response but the floor's has its own nonce (CSP header and attributes), checked before the load${quick ? '; quick run: figures mean nothing' : ''}</sub>`,
    );
    for (const note of notes) lines.push('', `> ${note}`);
    return {
      table: lines.join('\n'),
      data: { seconds, rounds, amount, connections, bytes, rows, notes },
    };
  } finally {
    for (const server of servers) await server.stop();
    await redis?.stop();
  }
}

/** The page's public operations, for the data cache: all but the visitor's own `Viewer`. */
const PUBLIC_OPERATIONS = {
  Products: { ttl: 3_600_000 },
  Reviews: { ttl: 3_600_000 },
} as const;

/**
 * One uncached Kiln render of the guest page (buffered), its Apollo client going through the
 * data cache's link when `data` is given.
 */
async function renderWithData(
  schema: GraphQLSchema,
  data: DataCache | undefined,
  onLink?: (link: DataCacheLink) => void,
): Promise<string> {
  const result = await renderToHtml(pageOf('query'), {
    request: new Request('http://localhost/'),
    mode: 'buffer',
    template: SHOP_TEMPLATE,
    plugins: [
      apollo({
        makeClient: () => {
          const terminal = new SchemaLink({ schema, context: { user: undefined } });
          let link: ApolloLink = terminal;
          if (data) {
            // A SchemaLink sends nothing but what this link sees.
            const cached = data.link({ decideFrom: 'link' });
            onLink?.(cached);
            link = ApolloLink.from([cached, terminal]);
          }
          return new ApolloClient({ ssrMode: true, cache: new InMemoryCache(), link });
        },
      }),
      emotion({ key: EMOTION_KEY }),
    ],
  });
  return result.text();
}

/**
 * The data cache in process: the uncached render of the guest page with and without the data
 * cache holding its public operations (61 of its 62), with no data latency and with a latency
 * per operation.
 */
async function dataCacheTable(): Promise<{ table: string; data: unknown }> {
  const latencies = quick ? [0] : [0, 50];
  const rows = [];
  for (const latencyMs of latencies) {
    const schema = createSchema({ latencyMs });
    const data = dataCache({ store: memoryStore(), operations: PUBLIC_OPERATIONS });
    const plain = await renderWithData(schema, undefined);
    assertShopPage('data cache baseline', plain, { user: undefined });
    await renderWithData(schema, data);
    let stats: DataCacheLink['stats'] | undefined;
    const cached = await renderWithData(schema, data, (link) => {
      stats = link.stats;
    });
    if (cached !== plain) throw new Error('the page rendered from the data cache differs');
    if (stats?.hits !== 61 || stats.misses !== 0) {
      throw new Error(`data cache: ${JSON.stringify(stats)}, expected 61 hits and no miss`);
    }
    rows.push(
      {
        name: `no data cache, ${latencyMs} ms/operation`,
        run: () => renderWithData(schema, undefined),
      },
      {
        name: `data cache (61/62 public), ${latencyMs} ms/operation`,
        run: () => renderWithData(schema, data),
      },
    );
  }
  const stats = await compare({
    title: 'data cache',
    baseline: rows[0]?.name ?? '',
    rows,
    rounds: quick ? 2 : 15,
    warmup: quick ? 1 : 3,
  });
  return {
    table: markdownTable(
      'Data cache: one uncached render of the guest page (Kiln, buffered), its 61 public operations from a memory store or executed',
      stats,
    ),
    data: stats,
  };
}

/** Runs the cache benchmarks and returns their Markdown tables. */
export default async function run(): Promise<string> {
  const pages = await pageCacheTable();
  const data = await dataCacheTable();
  saveResults('cache', { pages: pages.data, data: data.data });
  return `${pages.table}\n\n${data.table}`;
}

const serverKind = process.env.KILN_CACHE_BENCH_SERVER as ServerKind | undefined;
if (serverKind !== undefined && process.send) {
  if (!SERVER_KINDS.includes(serverKind)) {
    throw new Error(`[kiln/benchmarks] unknown cache server ${serverKind}`);
  }
  serve(serverKind).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
