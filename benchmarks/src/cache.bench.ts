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
 * The server processes run this file (`KILN_CACHE_BENCH_SERVER=<kind>`), bundled once per run
 * (`bundleServer`), with plain Node.
 */

import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ApolloClient, ApolloLink, InMemoryCache } from '@apollo/client';
import { SchemaLink } from '@apollo/client/link/schema';
import { apollo } from '@kiln/apollo';
import {
  memoryStore,
  type PageCache,
  pageCache,
  type RedisClientLike,
  type RedisClusterLike,
  type RedisSubscriberLike,
  type RenderLock,
  redisLock,
  redisStore,
  type Store,
  tieredStore,
  useCacheTags,
} from '@kiln/cache';
import { type DataCache, type DataCacheLink, dataCache } from '@kiln/cache/apollo';
import { type RenderOptions, renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { type RedisCluster, startRedis, startRedisCluster } from '@kiln/test-utils';
import type { GraphQLSchema } from 'graphql';
import { createElement, type ReactNode } from 'react';
import {
  benchApp,
  listenForParent,
  newNonce,
  servePrecomputed,
  serveRendered,
} from './bench-server';
import { bundleServer, forkServer, serverCpuMs } from './child-server';
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
import { type PageHead, pageHead } from './timed-get';

const SERVER_KINDS = ['static', 'none', 'memory', 'redis', 'cluster', 'tier'] as const;
type ServerKind = (typeof SERVER_KINDS)[number];

const USER = 'ada';
const CACHE_HEADER = 'x-kiln-cache';
/** The host every request names, whichever process it reaches. */
const PUBLIC_HOST = 'shop.test';
/** How long a response waited for another process's render (`lockWaitMs`), set by the cluster rows. */
const LOCK_WAIT_HEADER = 'x-kiln-bench-lock-wait';
const benchmarksDir = fileURLToPath(new URL('..', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);

/** The node-redis client calls the server process makes (`redis` is loaded from `@kiln/cache`'s dev dependencies). */
interface RedisClient extends RedisClientLike {
  connect(): Promise<unknown>;
}

interface RedisModule {
  createClient(options: { url: string }): RedisClient;
  createCluster(options: {
    rootNodes: { url: string }[];
  }): RedisClusterLike & RedisClient & { duplicate(): RedisSubscriberLike & RedisClient };
}

/** Where a row keeps its pages, and the lock that gives one render per key across processes. */
async function storeFor(
  kind: 'memory' | 'redis' | 'cluster' | 'tier',
): Promise<{ store: Store; lock?: RenderLock }> {
  if (kind === 'memory') return { store: memoryStore() };
  const redis = createRequire(import.meta.url)('redis') as RedisModule;
  // Processes of one fleet share a prefix (KILN_BENCH_PREFIX); otherwise each has its own.
  const prefix = process.env.KILN_BENCH_PREFIX ?? `kiln-bench:${process.pid}:`;
  if (kind === 'cluster' || kind === 'tier') {
    const nodes = (process.env.REDIS_CLUSTER_NODES ?? '').split(',');
    const client = redis.createCluster({
      rootNodes: nodes.map((node) => ({ url: `redis://${node}` })),
    });
    client.on('error', (error) => console.error('[kiln/benchmarks] redis cluster:', error.message));
    await client.connect();
    const shared = redisStore(client, { prefix });
    const lock = redisLock(client, { prefix });
    if (kind === 'cluster') return { store: shared, lock };
    // The memory tier: an LRU in this process, kept coherent over the cluster's pub/sub.
    const subscriber = client.duplicate();
    await subscriber.connect();
    const store = tieredStore(shared, {
      subscriber,
      channel: `${prefix}invalidate`,
      maxEntries: 1_000,
      onError: (error) => console.error('[kiln/benchmarks] memory tier:', error.message),
    });
    return { store, lock };
  }
  const client = redis.createClient({ url: process.env.REDIS_URL ?? '' });
  client.on('error', (error) => console.error('[kiln/benchmarks] redis:', error.message));
  await client.connect();
  return { store: redisStore(client, { prefix }) };
}

/**
 * The shop page for a `?cold=<id>` request of the fleet table: tagged `cold:<id>`, with a
 * stamp unique to this render, so a response tells which render it comes from.
 */
function Stamped(props: { id: string; children?: ReactNode }): ReactNode {
  useCacheTags(`cold:${props.id}`);
  return [
    createElement('meta', { key: 'stamp', name: 'kiln-bench-render', content: randomUUID() }),
    props.children,
  ];
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
    const cache = kind === 'none' ? undefined : await storeFor(kind);
    const pages: PageCache | undefined = cache
      ? pageCache({
          store: cache.store,
          lock: cache.lock,
          ttl: 3_600_000,
          // A cache error turns a hit into a render: the figures are only valid without them.
          onError: (error) =>
            console.error(`[kiln/benchmarks] ${kind} cache: ${(error as Error).message}`),
        })
      : undefined;
    if (pages) {
      app.get('/__invalidate', async (req, res) => {
        const tag = typeof req.query.tag === 'string' ? req.query.tag : '';
        res.json({ removed: await pages.invalidate(tag) });
      });
    }
    serveRendered(
      app,
      async (req, nonce) => {
        const options = optionsFor(req, nonce);
        const cold = new URL(req.url ?? '/', 'http://localhost').searchParams.get('cold');
        const element = cold
          ? createElement(Stamped, { id: cold }, pageOf('query'))
          : pageOf('query');
        if (!pages) return renderToHtml(element, options);
        const result = await pages.render(element, options);
        if (result.cache.lockWaitMs !== undefined) {
          result.headers.set(LOCK_WAIT_HEADER, String(result.cache.lockWaitMs));
        }
        return result;
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

interface Backends {
  redisUrl?: string;
  /** `host:port` of every Redis Cluster node. */
  clusterNodes?: readonly string[];
  /** A key prefix shared by the processes of one fleet. */
  prefix?: string;
}

/** Starts the server of `kind` from `serverFile`, this module bundled (see `bundleServer`). */
async function start(serverFile: string, kind: ServerKind, backends: Backends): Promise<Started> {
  const server = await forkServer(serverFile, {
    label: `cache server ${kind}`,
    cwd: benchmarksDir,
    env: {
      KILN_CACHE_BENCH_SERVER: kind,
      REDIS_URL: backends.redisUrl ?? '',
      REDIS_CLUSTER_NODES: backends.clusterNodes?.join(',') ?? '',
      ...(backends.prefix ? { KILN_BENCH_PREFIX: backends.prefix } : {}),
    },
  });
  return { kind, ...server };
}

interface Fetched extends PageHead {
  body: string;
  lockWaitMs?: number;
}

/**
 * One GET over HTTP/1.1, with `Host: shop.test` (as a load balancer forwards it, the same for
 * every process of a fleet; `fetch` would send the process's own address).
 */
function get(origin: string, user?: string, path = '/'): Promise<Fetched> {
  const headers: Record<string, string> = { host: PUBLIC_HOST };
  if (user) headers.cookie = `user=${encodeURIComponent(user)}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const lockWait = res.headers[LOCK_WAIT_HEADER];
        resolve({
          ...pageHead(res),
          body: Buffer.concat(chunks).toString('utf8'),
          ...(typeof lockWait === 'string' ? { lockWaitMs: Number(lockWait) } : {}),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Requests {@link untilHit} makes before it gives up. */
const HIT_ATTEMPTS = 40;

/**
 * Asks `origin` for `path` until the page comes from the store (`hit`), and returns that
 * response with how many before it did not. On a loaded machine a Redis read can time out: the
 * page cache then renders instead and skips Redis for its cooldown (about a second), which is
 * the store's documented behaviour, not a broken cache. The pause between attempts only paces
 * them; a cache that never hits fails after {@link HIT_ATTEMPTS} requests.
 */
async function untilHit(
  origin: string,
  path: string,
  label: string,
): Promise<{ page: Fetched; notHit: number }> {
  const seen: (string | null)[] = [];
  while (seen.length < HIT_ATTEMPTS) {
    const page = await get(origin, undefined, path);
    if (page.cache === 'hit') return { page, notHit: seen.length };
    seen.push(page.cache);
    await fetch(`${origin}/__idle`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${label}: ${path} never came from the store in ${HIT_ATTEMPTS} requests (${CACHE_HEADER}: ${seen.join(', ')})`,
  );
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
  const cached = kind !== 'static' && kind !== 'none';
  const second = cached
    ? (await untilHit(server.origin, '/', `${kind} check`)).page
    : await get(server.origin);
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
  if (cached) {
    if (first.cache !== 'miss') {
      throw new Error(`${kind}: ${CACHE_HEADER} ${first.cache} on a fresh key, not miss`);
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
  { kind: 'cluster', label: 'page cache, Redis Cluster store (3 masters + 3 replicas), lock' },
  { kind: 'tier', label: 'page cache, memory tier over the Redis Cluster store, lock' },
];

/**
 * The page cache over HTTP: every server started and checked first, then `rounds` rounds in
 * which each server is loaded in turn, in a fresh random order, so that the machine's drift
 * falls on every row alike; req/s is the median over the rounds.
 */
async function pageCacheTable(
  cluster: RedisCluster,
  serverFile: string,
): Promise<{ table: string; data: unknown }> {
  const seconds = 3;
  const rounds = quick ? 1 : 5;
  const warmupSeconds = quick ? 0 : 2;
  const connections = quick ? 2 : 10;
  const amount = quick ? 4 : undefined;
  // Loaded here, not at the top: the server children import this file and never use it.
  const { default: autocannon } = await import('autocannon');
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
    const started = await Promise.allSettled(
      ROWS.map(({ kind }) =>
        start(serverFile, kind, { redisUrl: url, clusterNodes: cluster.addresses }),
      ),
    );
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

/** The fleet sizes of the cold-render rows. */
const FLEET_SIZES = [1, 2, 4] as const;

interface FleetRow {
  processes: number;
  keys: number;
  requests: number;
  wallMs: number;
  misses: number;
  hits: number;
  failures: number;
  /** `lockWaitMs` of every response that waited for another process's render. */
  lockWaits: number[];
}

/** The stamp of the render a `?cold=` page comes from. */
function stampOf(body: string): string {
  const stamp = /<meta name="kiln-bench-render" content="([^"]+)"/.exec(body)?.[1];
  if (!stamp) throw new Error('a cold page has no render stamp');
  return stamp;
}

/**
 * Many processes on one Redis Cluster, each with the page cache and the render lock: cold
 * keys requested at once from every process (one render per key wanted), lock waits, and how
 * long a tag invalidated through one process keeps being served by the others.
 */
async function fleetTable(
  cluster: RedisCluster,
  serverFile: string,
): Promise<{ table: string; data: unknown }> {
  const keys = quick ? 3 : 20;
  const perKey = quick ? 4 : 8;
  const invalidations = quick ? 2 : 20;
  const run = randomUUID().slice(0, 8);
  const servers: Started[] = [];
  try {
    const started = await Promise.allSettled(
      Array.from({ length: Math.max(...FLEET_SIZES) }, () =>
        start(serverFile, 'cluster', {
          clusterNodes: cluster.addresses,
          prefix: `kiln-bench-fleet:${run}:`,
        }),
      ),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;

    const rows: FleetRow[] = [];
    for (const processes of FLEET_SIZES) {
      const fleet = servers.slice(0, processes);
      const begun = performance.now();
      const responses = await Promise.all(
        Array.from({ length: keys * perKey }, (_, i) => {
          const key = `${processes}-${Math.floor(i / perKey)}`;
          return get((fleet[i % processes] as Started).origin, undefined, `/?cold=${key}`);
        }),
      );
      const wallMs = performance.now() - begun;
      let failures = 0;
      for (const response of responses) {
        if (response.status !== 200) failures++;
        else assertShopPage(`fleet of ${processes}`, response.body, { user: undefined });
      }
      rows.push({
        processes,
        keys,
        requests: responses.length,
        wallMs,
        misses: responses.filter((r) => r.cache === 'miss').length,
        hits: responses.filter((r) => r.cache === 'hit').length,
        failures,
        lockWaits: responses.flatMap((r) => (r.lockWaitMs === undefined ? [] : [r.lockWaitMs])),
      });
    }

    // Invalidation: every process serves the stored page; the tag is invalidated through the
    // first; each other process is then asked until it serves another render's page.
    const delays: number[] = [];
    let notHit = 0;
    for (let round = 0; round < invalidations; round++) {
      const path = `/?cold=inv-${run}-${round}`;
      await get((servers[0] as Started).origin, undefined, path);
      await fetch(`${(servers[0] as Started).origin}/__idle`);
      // A process whose store read timed out renders the page itself and may store its render
      // over the first: the round starts once every process serves one and the same stored page.
      let old: string | undefined;
      for (let attempt = 0; old === undefined; attempt++) {
        const stamps = new Set<string>();
        for (const server of servers) {
          const hit = await untilHit(server.origin, path, 'fleet');
          notHit += hit.notHit;
          stamps.add(stampOf(hit.page.body));
        }
        if (stamps.size === 1) old = [...stamps][0];
        else if (attempt >= 5) throw new Error('the processes kept serving different stored pages');
      }
      const begun = performance.now();
      await fetch(`${(servers[0] as Started).origin}/__invalidate?tag=cold:inv-${run}-${round}`);
      let slowest = 0;
      for (const server of servers.slice(1)) {
        for (let attempt = 0; ; attempt++) {
          if (attempt > 10_000) throw new Error('an invalidated page kept being served');
          const page = await get(server.origin, undefined, path);
          if (stampOf(page.body) !== old) break;
        }
        slowest = performance.now() - begun;
      }
      delays.push(slowest);
    }

    const lines = [
      `### A fleet on one Redis Cluster (3 masters + 3 replicas): page cache + render lock per process, ${keys} cold keys × ${perKey} concurrent requests spread over the processes`,
      '',
      '| processes | requests | misses (renders) | hits | failed | wall ms | ms per cold key | lock waits | lock wait p50 / p90 / p99 ms |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const row of rows) {
      const waits = row.lockWaits;
      const percentiles = waits.length
        ? [0.5, 0.9, 0.99].map((q) => formatMs(quantile(waits, q))).join(' / ')
        : '–';
      lines.push(
        `| ${row.processes} | ${row.requests} | ${row.misses} | ${row.hits} | ${row.failures} | ${formatMs(row.wallMs)} | ${formatMs(row.wallMs / row.keys)} | ${waits.length} | ${percentiles} |`,
      );
    }
    lines.push(
      '',
      `Invalidation delay (tag invalidated through one process, until all ${servers.length - 1} others serve a new render; ${invalidations} rounds): p50 ${formatMs(quantile(delays, 0.5))}, max ${formatMs(Math.max(...delays))}.`,
      '',
      `<sub>one render per key is wanted: misses = ${keys} in every row${quick ? '; quick run: figures mean nothing' : ''}</sub>`,
    );
    if (notHit > 0) {
      lines.push(
        '',
        `> before the invalidation rounds, ${notHit} request(s) rendered instead of reading the store (a Redis read timed out, then its cooldown): the machine was overloaded`,
      );
    }
    for (const row of rows) {
      if (row.misses !== row.keys) {
        lines.push('', `> ${row.processes} processes: ${row.misses} renders for ${row.keys} keys`);
      }
    }
    return { table: lines.join('\n'), data: { keys, perKey, rows, delays, notHit } };
  } finally {
    for (const server of servers) await server.stop();
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
  const serverFile = await bundleServer(thisFile);
  try {
    const cluster = await startRedisCluster();
    try {
      const pages = await pageCacheTable(cluster, serverFile);
      const fleet = await fleetTable(cluster, serverFile);
      const data = await dataCacheTable();
      saveResults('cache', { pages: pages.data, fleet: fleet.data, data: data.data });
      return `${pages.table}\n\n${fleet.table}\n\n${data.table}`;
    } finally {
      await cluster.stop();
    }
  } finally {
    rmSync(serverFile, { force: true });
  }
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
