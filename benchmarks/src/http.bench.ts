/**
 * @module
 * `pnpm bench http`: the shop served over HTTP, each server in its own process on 127.0.0.1
 * (Express 5), loaded by autocannon (10 connections, 10 s after a warm-up; bounded in time, it
 * stops by itself). Rows: the static floor (the hand-rolled page's bytes, precomputed), the
 * hand-rolled pipeline, Kiln buffered, Kiln streamed (both the `useQuery` page). Before any load,
 * each server's pages for a signed-in visitor and a guest are checked (greeting, 60 cards, CSS
 * before use, safe state, different pages), so a broken row cannot look fast.
 *
 * A second table measures the time to first byte with `LATENCY_MS=50` per GraphQL operation:
 * the hand-rolled pipeline against Kiln streaming the `useQuery` page and the suspense page.
 */

import { existsSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { forkServer, serverCpuMs } from './child-server';
import { formatMs, formatRatio, quantile, quick, resultsDir, saveResults } from './harness';
import type { ServerKind } from './http/server';
import { assertShopPage } from './shop/index';

const USER = 'ada';
const serverSource = fileURLToPath(new URL('./http/server.ts', import.meta.url));
const tsconfigFile = fileURLToPath(new URL('../../tsconfig.base.json', import.meta.url));

/** Whether Node, loading a module in `dir`, finds the package of `specifier` in a `node_modules`. */
function installedNear(dir: string, specifier: string): boolean {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, 'node_modules', name, 'package.json'))) return true;
    if (dirname(current) === current) return false;
  }
}

/**
 * Bundles `http/server.ts` with the Kiln packages' sources into one ES module under
 * `results/.server/` (one file per run, removed at the end), so that every server process starts from plain JavaScript (no TypeScript
 * loader in the measured process). Packages the benchmarks can resolve (React, Apollo, emotion,
 * Express…) stay external and load from `node_modules` as in any deployment.
 */
async function bundleServer(): Promise<string> {
  const outfile = `${resultsDir}.server/server-${process.pid}.mjs`;
  await build({
    entryPoints: [serverSource],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@kiln/source'],
    tsconfig: tsconfigFile,
    logLevel: 'warning',
    plugins: [
      {
        name: 'external-dependencies',
        setup(context) {
          context.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('@kiln/') || args.path.startsWith('node:')) return undefined;
            return installedNear(dirname(outfile), args.path)
              ? { path: args.path, external: true }
              : undefined;
          });
        },
      },
    ],
  });
  return outfile;
}

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

/**
 * Loads the server for `seconds` with `connections` connections, or, when `amount` is given,
 * until `amount` requests completed (the quick run's bounded form).
 */
function load(
  origin: string,
  options: { seconds: number; connections: number; amount?: number },
): Promise<autocannon.Result> {
  return autocannon({
    url: `${origin}/`,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
    timeout: 60,
    headers: cookieFor(USER),
  });
}

interface LoadRow {
  kind: ServerKind;
  label: string;
  bytes: number;
  reqPerSec: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  ttfb: TtfbStats;
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
  const seconds = 10;
  const warmupSeconds = quick ? 0 : 3;
  const connections = quick ? 2 : 10;
  const amount = quick ? 4 : undefined;
  const ttfbCount = quick ? 1 : 20;
  const serverFile = await bundleServer();
  try {
    return await measure(serverFile, { seconds, warmupSeconds, connections, amount, ttfbCount });
  } finally {
    rmSync(serverFile, { force: true });
  }
}

async function measure(
  serverFile: string,
  options: {
    seconds: number;
    warmupSeconds: number;
    connections: number;
    amount: number | undefined;
    ttfbCount: number;
  },
): Promise<string> {
  const { seconds, warmupSeconds, connections, amount, ttfbCount } = options;
  const notes: string[] = [];

  const rows: LoadRow[] = [];
  for (const { kind, label } of LOAD_ROWS) {
    let server: Started | undefined;
    try {
      server = await start(serverFile, kind, 0);
      const bytes = await check(server);
      const ttfb = await timeToFirstByte(server, ttfbCount);
      if (warmupSeconds > 0) await load(server.origin, { seconds: warmupSeconds, connections });
      const cpuBefore = await serverCpuMs(server.origin);
      const result = await load(server.origin, { seconds, connections, amount });
      const cpuAfter = await serverCpuMs(server.origin);
      const completed = result.requests.total;
      if (result.non2xx > 0 || result.errors > 0 || completed === 0) {
        notes.push(
          `${label}: failures under load (${completed} completed, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`,
        );
      }
      rows.push({
        kind,
        label,
        bytes,
        reqPerSec: completed / (result.duration || seconds),
        requests: completed,
        errors: result.errors + result.non2xx,
        p50: result.latency.p50,
        p99: result.latency.p99,
        cpuMsPerRequest: completed > 0 ? (cpuAfter - cpuBefore) / completed : Number.NaN,
        ttfb,
      });
    } catch (error) {
      notes.push(`${label} skipped: ${(error as Error).message}`);
    } finally {
      await server?.stop();
    }
  }

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

  saveResults('http', { seconds, amount, connections, rows, latencyRows, notes });
  const staticRow = rows.find((row) => row.kind === 'static');
  const handRow = rows.find((row) => row.kind === 'hand-rolled');
  const lines = [
    `### HTTP, Express 5, autocannon ${connections} connections × ${amount ? `${amount} requests` : `${seconds} s`}`,
    '',
    '| server | req/s | × static | × hand-rolled | p50 ms | p99 ms | p99/p50 | server CPU ms/req | TTFB ms (idle) | bytes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.label} | ${row.reqPerSec.toFixed(1)} | ${formatRatio(row.reqPerSec / (staticRow?.reqPerSec ?? Number.NaN))} | ${formatRatio(row.reqPerSec / (handRow?.reqPerSec ?? Number.NaN))} | ${formatMs(row.p50)} | ${formatMs(row.p99)} | ${formatRatio(row.p99 / row.p50)} | ${formatMs(row.cpuMsPerRequest)} | ${formatMs(row.ttfb.firstByteMs)} | ${row.bytes} |`,
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
