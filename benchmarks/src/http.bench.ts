/**
 * @module
 * `pnpm bench http`: the shop served over HTTP, each server in its own process on 127.0.0.1
 * (Express 5), loaded by autocannon with 10 connections. Rows: the static floor (the hand-rolled
 * page's bytes, precomputed), the hand-rolled pipeline, Kiln buffered, Kiln streamed (both the
 * `useQuery` page). Before any load, each server's pages for a signed-in visitor and a guest are
 * checked (greeting, 60 cards, CSS before use, safe state, different pages), so a broken row
 * cannot look fast.
 *
 * The machine is shared, so load from other work must fall on every row alike: all servers run
 * at once (idle when not loaded), each is warmed up, then they are loaded in turn for several
 * short rounds, in a rotated order each round. A row's throughput in a round is its steady rate,
 * (responses − 1) / (time from the first response to the last), which leaves out the ramp-up
 * before the first response (as long as one response for a slow server). Ratios to the
 * hand-rolled row are taken within each round and reported as the median and the range over
 * rounds; latency percentiles are over every response of every round.
 *
 * A second table measures the time to first byte with `LATENCY_MS=50` per GraphQL operation:
 * the hand-rolled pipeline against Kiln streaming the `useQuery` page and the suspense page.
 */

import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { bundleServer, forkServer, serverCpuMs } from './child-server';
import { formatMs, formatRatio, quantile, quick, saveResults } from './harness';
import type { ServerKind } from './http/server';
import { assertShopPage } from './shop/index';

const USER = 'ada';
/** The server module of every row, bundled once per run (see `bundleServer`). */
export const serverSource = fileURLToPath(new URL('./http/server.ts', import.meta.url));

/** A server process started for the benchmark. */
interface Started {
  kind: ServerKind;
  origin: string;
  stop(): Promise<void>;
}

async function start(serverFile: string, kind: ServerKind, latencyMs: number): Promise<Started> {
  const server = await forkServer(serverFile, {
    label: `server ${kind}`,
    args: [kind],
    env: { LATENCY_MS: String(latencyMs) },
  });
  return { kind, ...server };
}

function cookieFor(user: string | undefined): Record<string, string> {
  return user ? { cookie: `user=${encodeURIComponent(user)}` } : {};
}

interface Timed {
  status: number;
  body: string;
  firstByteMs: number;
  totalMs: number;
  shellMs: number | undefined;
}

/** One GET over a fresh connection, timing the first body byte and the end. */
function get(origin: string, user: string | undefined): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByteMs = -1;
    const req = httpRequest(
      `${origin}/`,
      { headers: { ...cookieFor(user), connection: 'close' }, timeout: 60_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (firstByteMs < 0) firstByteMs = performance.now() - started;
          chunks.push(chunk);
        });
        res.on('end', () => {
          const timing = /shell;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            firstByteMs,
            totalMs: performance.now() - started,
            shellMs: timing ? Number(timing[1]) : undefined,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Checks both pages of a server; returns the signed-in page's size in bytes. */
async function check(server: Started): Promise<number> {
  const signedIn = await get(server.origin, USER);
  const guest = await get(server.origin, undefined);
  for (const [page, user] of [
    [signedIn, USER],
    [guest, undefined],
  ] as const) {
    if (page.status !== 200) throw new Error(`${server.kind} answered ${page.status}`);
    assertShopPage(server.kind, page.body, { user });
  }
  if (signedIn.body === guest.body) throw new Error(`${server.kind} sends a guest the same page`);
  return Buffer.byteLength(signedIn.body);
}

interface TtfbStats {
  firstByteMs: number;
  firstByteP90Ms: number;
  totalMs: number;
  shellMs: number | undefined;
}

async function timeToFirstByte(server: Started, count: number): Promise<TtfbStats> {
  const first: number[] = [];
  const total: number[] = [];
  const shell: number[] = [];
  await get(server.origin, USER);
  for (let i = 0; i < count; i++) {
    const timed = await get(server.origin, USER);
    first.push(timed.firstByteMs);
    total.push(timed.totalMs);
    if (timed.shellMs !== undefined) shell.push(timed.shellMs);
  }
  return {
    firstByteMs: quantile(first, 0.5),
    firstByteP90Ms: quantile(first, 0.9),
    totalMs: quantile(total, 0.5),
    shellMs: shell.length > 0 ? quantile(shell, 0.5) : undefined,
  };
}

/** What one load of one server gave. */
interface Loaded {
  result: autocannon.Result;
  /** The latency of every 2xx response, in ms. */
  latencies: number[];
  /**
   * The latency of every 2xx response but each connection's first: the requests of connections
   * the server had already accepted (see `openLatencies` of {@link LoadRow}).
   */
  openLatencies: number[];
  /** The steady rate: (responses − 1) / (time from the first response to the last), per second. */
  steadyPerSec: number;
}

/**
 * Loads the server for `seconds` with `connections` connections, or, when `amount` is given,
 * until `amount` requests completed (the quick run's bounded form).
 */
async function load(
  origin: string,
  options: { seconds: number; connections: number; amount?: number },
): Promise<Loaded> {
  const latencies: number[] = [];
  const openLatencies: number[] = [];
  const connected = new Set<unknown>();
  let first = -1;
  let last = -1;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${origin}/`,
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
        timeout: 60,
        headers: cookieFor(USER),
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (client, statusCode, _bytes, ms) => {
      if (statusCode < 200 || statusCode >= 300) return;
      const now = performance.now();
      if (first < 0) first = now;
      last = now;
      latencies.push(ms);
      if (connected.has(client)) openLatencies.push(ms);
      else connected.add(client);
    });
  });
  const steadyPerSec =
    latencies.length > 1 && last > first ? ((latencies.length - 1) * 1000) / (last - first) : 0;
  return { result, latencies, openLatencies, steadyPerSec };
}

/** One round of one server. */
interface Round {
  reqPerSec: number;
  requests: number;
  cpuMsPerRequest: number;
  p50: number;
  p99: number;
  /** p99 / p50 of the responses on open connections (see `openLatencies` of {@link LoadRow}). */
  openTail: number;
}

interface LoadRow {
  kind: ServerKind;
  label: string;
  bytes: number;
  ttfb: TtfbStats;
  rounds: Round[];
  /** Every 2xx latency of every round, in ms. */
  latencies: number[];
  /**
   * The same without each connection's first response. A saturated Node server (one thread
   * busy with renders) accepts new connections one per turn of its event loop, after serving
   * the connections it already has, so the first request of each of autocannon's fresh
   * connections waits up to a whole round of the others (`pnpm --filter @kiln/benchmarks
   * bench:accept` shows it with plain `node:http`). These latencies are the server's under load
   * on open keep-alive connections, without that accept order.
   */
  openLatencies: number[];
  errors: number;
}

const LOAD_ROWS: { kind: ServerKind; label: string }[] = [
  { kind: 'static', label: 'static floor (precomputed bytes)' },
  { kind: 'hand-rolled', label: 'hand-rolled pipeline' },
  { kind: 'kiln-buffered', label: 'Kiln buffered' },
  { kind: 'kiln-streamed', label: 'Kiln streamed' },
];

const TTFB_ROWS: { kind: ServerKind; label: string }[] = [
  { kind: 'hand-rolled', label: 'hand-rolled pipeline, useQuery page' },
  { kind: 'kiln-streamed', label: 'Kiln streamed, useQuery page' },
  { kind: 'kiln-streamed-suspense', label: 'Kiln streamed, suspense page' },
];

/** Runs the HTTP benchmark and returns its Markdown tables. */
export default async function run(): Promise<string> {
  const seconds = 8;
  const rounds = quick ? 1 : 4;
  const warmupSeconds = quick ? 0 : 4;
  const connections = quick ? 2 : 10;
  const amount = quick ? 4 : undefined;
  const ttfbCount = quick ? 1 : 20;
  const serverFile = await bundleServer(serverSource);
  try {
    return await measure(serverFile, {
      seconds,
      rounds,
      warmupSeconds,
      connections,
      amount,
      ttfbCount,
    });
  } finally {
    rmSync(serverFile, { force: true });
  }
}

/** The median and the range of `values`, as `median (min–max)`. */
function spread(values: number[], format: (value: number) => string): string {
  if (values.length === 0) return '–';
  const median = format(quantile(values, 0.5));
  if (values.length === 1) return median;
  return `${median} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

async function measure(
  serverFile: string,
  options: {
    seconds: number;
    rounds: number;
    warmupSeconds: number;
    connections: number;
    amount: number | undefined;
    ttfbCount: number;
  },
): Promise<string> {
  const { seconds, rounds, warmupSeconds, connections, amount, ttfbCount } = options;
  const notes: string[] = [];

  // Start and check every server first; each stays up (idle) until the last round.
  const started: { server: Started; row: LoadRow }[] = [];
  try {
    for (const { kind, label } of LOAD_ROWS) {
      let server: Started | undefined;
      try {
        server = await start(serverFile, kind, 0);
        const bytes = await check(server);
        const ttfb = await timeToFirstByte(server, ttfbCount);
        if (warmupSeconds > 0) await load(server.origin, { seconds: warmupSeconds, connections });
        started.push({
          server,
          row: {
            kind,
            label,
            bytes,
            ttfb,
            rounds: [],
            latencies: [],
            openLatencies: [],
            errors: 0,
          },
        });
      } catch (error) {
        notes.push(`${label} skipped: ${(error as Error).message}`);
        await server?.stop();
      }
    }
    for (let round = 0; round < rounds; round++) {
      // Rotate the order, so that no row is always first or last in a round.
      const order = started.map((_, i) => started[(i + round) % started.length]!);
      for (const { server, row } of order) {
        const cpuBefore = await serverCpuMs(server.origin);
        const loaded = await load(server.origin, { seconds, connections, amount });
        const cpuAfter = await serverCpuMs(server.origin);
        const { result } = loaded;
        const completed = result.requests.total;
        if (result.non2xx > 0 || result.errors > 0 || completed === 0) {
          notes.push(
            `${row.label}, round ${round + 1}: failures under load (${completed} completed, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`,
          );
        }
        row.errors += result.errors + result.non2xx;
        row.latencies.push(...loaded.latencies);
        row.openLatencies.push(...loaded.openLatencies);
        row.rounds.push({
          reqPerSec: loaded.steadyPerSec,
          requests: completed,
          cpuMsPerRequest: completed > 0 ? (cpuAfter - cpuBefore) / completed : Number.NaN,
          p50: quantile(loaded.latencies, 0.5),
          p99: quantile(loaded.latencies, 0.99),
          openTail: quantile(loaded.openLatencies, 0.99) / quantile(loaded.openLatencies, 0.5),
        });
      }
    }
  } finally {
    await Promise.all(started.map(({ server }) => server.stop()));
  }
  const rows = started.map(({ row }) => row);

  // The same servers with no data latency and with 50 ms per operation: a streamed shell should
  // not wait for data. A quick run only proves that both sides of the comparison work.
  const latencies = quick ? [50] : [0, 50];
  const latencyRows: { label: string; byLatency: Record<number, TtfbStats> }[] = [];
  for (const { kind, label } of TTFB_ROWS.filter((row) => !quick || row.kind !== 'kiln-streamed')) {
    const byLatency: Record<number, TtfbStats> = {};
    for (const latencyMs of latencies) {
      let server: Started | undefined;
      try {
        server = await start(serverFile, kind, latencyMs);
        await check(server);
        byLatency[latencyMs] = await timeToFirstByte(server, ttfbCount);
      } catch (error) {
        notes.push(`${label} (LATENCY_MS=${latencyMs}) skipped: ${(error as Error).message}`);
      } finally {
        await server?.stop();
      }
    }
    latencyRows.push({ label, byLatency });
  }

  saveResults('http', {
    seconds,
    rounds,
    amount,
    connections,
    rows: rows.map(({ latencies, openLatencies, ...row }) => ({
      ...row,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      openP50: quantile(openLatencies, 0.5),
      openP99: quantile(openLatencies, 0.99),
    })),
    latencyRows,
    notes,
  });
  const staticRow = rows.find((row) => row.kind === 'static');
  const handRow = rows.find((row) => row.kind === 'hand-rolled');
  /** This row's req/s divided by `other`'s, round by round. */
  const ratios = (row: LoadRow, other: LoadRow | undefined): number[] =>
    other ? row.rounds.map((round, i) => round.reqPerSec / (other.rounds[i]?.reqPerSec ?? 0)) : [];
  const lines = [
    `### HTTP, Express 5, autocannon ${connections} connections, ${rounds} round${rounds > 1 ? 's' : ''} × ${amount ? `${amount} requests` : `${seconds} s`} per server`,
    '',
    'req/s is the steady rate of each round; figures are the median over rounds and (in brackets) the range; p50, p99 and p99/p50 are over every response of every round, "worst round" is the highest p99/p50 of one round. "Open connections" leaves out the first response of each connection, which a saturated Node server accepts only after a round of the connections it already serves (`bench:accept`).',
    '',
    '| server | req/s | × hand-rolled | × static | responses | p50 ms | p99 ms | p99/p50 | worst round p99/p50 | p50 ms, open connections | p99 ms, open connections | p99/p50, open connections | worst round, open connections | server CPU ms/req | TTFB ms (idle) | bytes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const ratio = (value: number) => formatRatio(value);
  for (const row of rows) {
    const p50 = quantile(row.latencies, 0.5);
    const p99 = quantile(row.latencies, 0.99);
    const openP50 = quantile(row.openLatencies, 0.5);
    const openP99 = quantile(row.openLatencies, 0.99);
    lines.push(
      `| ${row.label} | ${spread(
        row.rounds.map((r) => r.reqPerSec),
        (v) => v.toFixed(1),
      )} | ${spread(ratios(row, handRow), ratio)} | ${spread(ratios(row, staticRow), ratio)} | ${row.latencies.length} | ${formatMs(p50)} | ${formatMs(p99)} | ${formatRatio(p99 / p50)} | ${formatRatio(Math.max(...row.rounds.map((r) => r.p99 / r.p50)))} | ${formatMs(openP50)} | ${formatMs(openP99)} | ${formatRatio(openP99 / openP50)} | ${formatRatio(Math.max(...row.rounds.map((r) => r.openTail)))} | ${spread(
        row.rounds.map((r) => r.cpuMsPerRequest),
        formatMs,
      )} | ${formatMs(row.ttfb.firstByteMs)} | ${row.bytes} |`,
    );
  }
  lines.push(
    '',
    `### Time to first byte, data latency 0 and 50 ms per GraphQL operation (LATENCY_MS; ${ttfbCount} sequential requests each)`,
    '',
    '| server | first byte ms, 0 ms | first byte ms, 50 ms (median / p90) | × (50 ms / 0 ms) | whole page ms, 50 ms | Kiln shell ready ms, 50 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const row of latencyRows) {
    const idle = row.byLatency[0];
    const slow = row.byLatency[50];
    const cell = (value: number | undefined): string =>
      value === undefined ? '–' : formatMs(value);
    lines.push(
      `| ${row.label} | ${cell(idle?.firstByteMs)} | ${cell(slow?.firstByteMs)} / ${cell(slow?.firstByteP90Ms)} | ${idle && slow ? formatRatio(slow.firstByteMs / idle.firstByteMs) : '–'} | ${cell(slow?.totalMs)} | ${cell(slow?.shellMs)} |`,
    );
  }
  if (quick) lines.push('', '<sub>quick run: figures mean nothing</sub>');
  for (const note of notes) lines.push('', `> ${note}`);
  return lines.join('\n');
}
