/**
 * @module
 * `pnpm bench partial-http`: partial pre-rendering of the shop page over real HTTP (loopback),
 * each server in its own process (Express 5 on 127.0.0.1, run from this file bundled once per
 * run, `KILN_PARTIAL_BENCH_SERVER=<kind>`). The page and plugins are those of `pnpm bench partial`
 * (the visitor's header is the hole, the 60 cards and their reviews the shell). Rows, one run:
 *
 * - the static floor: the signed-in page's bytes, precomputed (one fixed nonce);
 * - a page-cache hit (a guest, `pageCache` on the memory store);
 * - a full Kiln render (signed in, streamed);
 * - partial: the stored shell plus the visitor's hole (signed in, `partialCache`, memory);
 * - the bound: no Kiln work before the first byte. The handler writes a shell held in a
 *   variable itself, then resumes it with Kiln (signed in): what any partial server could at
 *   best reach in this harness, since each request runs after the previous one's resume.
 *
 * Every response but the floor's has its own CSP nonce. Before any timing each server is
 * checked (greeting, 60 cards, `x-kiln-cache`, the nonce of the CSP header on every nonce
 * attribute). Then, in `rounds` rounds, each in a fresh random order of the servers:
 *
 * - time to first byte: sequential GETs over a kept-alive connection; the first byte is the
 *   first body byte the client receives, from the moment the request was written;
 * - load: autocannon (10 connections) for a few seconds; req/s, and the server's CPU time per
 *   request (its `process.cpuUsage()` before and after, read at `/__cpu`).
 *
 * The table gives medians over the rounds and the two ratios of the goals: first byte against
 * the floor's, server CPU against the full render's.
 */

import { rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { memoryStore, pageCache, partialCache } from '@kiln/cache';
import {
  prerenderShell,
  type RenderOptions,
  renderToHtml,
  resumeShell,
  type Shell,
} from '@kiln/core';
import { createElement } from 'react';
import {
  benchApp,
  contentSecurityPolicy,
  listenForParent,
  newNonce,
  servePrecomputed,
  serveRendered,
} from './bench-server';
import { bundleServer, forkServer, serverCpuMs } from './child-server';
import { formatMs, formatRatio, quantile, quick, saveResults, shuffle } from './harness';
import { PartialShopPage, partialShopPlugins } from './partial-page';
import { createSchema } from './shop/index';
import { timedGet as get, type Timed } from './timed-get';

const SERVER_KINDS = ['static', 'page-cache', 'full', 'partial', 'bound'] as const;
type ServerKind = (typeof SERVER_KINDS)[number];

const USER = 'ada';
const CACHE_HEADER = 'x-kiln-cache';
const benchmarksDir = fileURLToPath(new URL('..', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);

/** The server of one row, in the child process: Express on a free loopback port. */
async function serve(kind: ServerKind): Promise<void> {
  const schema = createSchema({ latencyMs: 0 });
  const optionsFor = (request: RenderOptions['request'], nonce: string): RenderOptions => ({
    request,
    nonce,
    mode: 'stream',
    plugins: partialShopPlugins(schema),
  });
  const page = createElement(PartialShopPage);
  const app = benchApp();

  if (kind === 'static') {
    const nonce = newNonce();
    const signedIn = new Request('http://localhost/', { headers: { cookie: `user=${USER}` } });
    const result = await renderToHtml(page, optionsFor(signedIn, nonce));
    servePrecomputed(app, Buffer.from(await result.text()), nonce);
  } else if (kind === 'bound') {
    const shell = await prerenderShell(page, {
      url: 'http://localhost/',
      plugins: partialShopPlugins(schema),
    });
    serveShellBytesFirst(app, page, optionsFor, shell);
  } else {
    const pages =
      kind === 'page-cache' ? pageCache({ store: memoryStore(), ttl: 3_600_000 }) : undefined;
    const shells =
      kind === 'partial' ? partialCache({ store: memoryStore(), ttl: 3_600_000 }) : undefined;
    serveRendered(
      app,
      (req, nonce) => {
        const options = optionsFor(req, nonce);
        if (pages) return pages.render(page, options);
        if (shells) return shells.render(page, options);
        return renderToHtml(page, options);
      },
      () => Promise.all([pages?.idle(), shells?.idle()]),
    );
  }

  listenForParent(app);
}

/**
 * The bound row: the least any partial server does before its first byte. The shell is held in
 * a variable (no store, no key); the handler writes its status, headers and prelude itself,
 * with this response's nonce, then resumes it for the visitor as Kiln does (the same shell,
 * its prelude emptied, so nothing is sent twice).
 */
function serveShellBytesFirst(
  app: ReturnType<typeof benchApp>,
  page: ReturnType<typeof createElement>,
  optionsFor: (request: RenderOptions['request'], nonce: string) => RenderOptions,
  shell: Shell,
): void {
  // the handler writes only the content type and the CSP: a shell of its own headers, or
  // without holes, would not be the page the partial row serves
  if (shell.kind !== 'partial' || shell.headers.length > 0) {
    throw new Error(
      `[kiln/benchmarks] partial-http bound: the shop page's shell is ${shell.kind} with ${shell.headers.length} headers; it must be partial with none`,
    );
  }
  const parts = shell.prelude.map((part) => Buffer.from(part));
  const rest: Shell = { ...shell, prelude: [''] };
  app.get('/', async (req, res, next) => {
    try {
      const nonce = newNonce();
      res.writeHead(shell.status, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': contentSecurityPolicy(nonce),
      });
      const attribute = Buffer.from(` nonce="${nonce}"`);
      parts.forEach((part, i) => {
        if (i > 0) res.write(attribute);
        res.write(part);
      });
      // a response corks its socket until the next tick: send the prelude now, as Kiln does
      if (res.socket?.writableCorked) res.socket.uncork();
      (await resumeShell(rest, page, optionsFor(req, nonce))).pipe(res);
    } catch (error) {
      next(error);
    }
  });
}

interface Started {
  kind: ServerKind;
  origin: string;
  agent: Agent;
  stop(): Promise<void>;
}

/** Starts the server of `kind` from `serverFile`, this module bundled (see `bundleServer`). */
async function start(serverFile: string, kind: ServerKind): Promise<Started> {
  const server = await forkServer(serverFile, {
    label: `partial server ${kind}`,
    cwd: benchmarksDir,
    env: { KILN_PARTIAL_BENCH_SERVER: kind },
  });
  return { kind, agent: new Agent({ keepAlive: true, maxSockets: 1 }), ...server };
}

/** The visitor of a row: the page cache serves guests, the others the signed-in visitor. */
function userOf(kind: ServerKind): string | undefined {
  return kind === 'page-cache' ? undefined : USER;
}

/** The problems of a page for `user` (a guest when undefined), as in `pnpm bench partial`. */
function problemsOf(page: Timed, user: string | undefined, cache: string | undefined): string[] {
  const problems: string[] = [];
  const cards = page.body.match(/data-product="/g)?.length ?? 0;
  if (page.status !== 200) problems.push(`status ${page.status}`);
  if (cards !== 60) problems.push(`${cards} cards, not 60`);
  if (user && !page.body.toLowerCase().includes(user)) problems.push(`no greeting of ${user}`);
  if (!user && page.body.toLowerCase().includes(USER)) problems.push(`the guest sees ${USER}`);
  if (cache !== undefined && page.cache !== cache) {
    problems.push(`${CACHE_HEADER} ${page.cache}, not ${cache}`);
  }
  const attributes = [...page.body.matchAll(/\snonce="([^"]*)"/g)].map((m) => m[1]);
  if (page.nonce.length < 16) problems.push('no nonce in the CSP header');
  if (attributes.length === 0) problems.push('no nonce attribute');
  if (attributes.some((nonce) => nonce !== page.nonce)) {
    problems.push('a nonce attribute differs from the CSP header');
  }
  return problems;
}

/** Warms a server's cache and checks its page twice (two nonces, the expected cache status). */
async function check(server: Started): Promise<number> {
  const { kind } = server;
  const user = userOf(kind);
  await get(server, user);
  if (kind !== 'static') await fetch(`${server.origin}/__idle`);
  const cache = kind === 'page-cache' ? 'hit' : kind === 'partial' ? 'partial' : undefined;
  const first = await get(server, user);
  const second = await get(server, user);
  const problems = [...problemsOf(first, user, cache), ...problemsOf(second, user, cache)];
  if (kind !== 'static' && first.nonce === second.nonce)
    problems.push('two responses share a nonce');
  if (kind === 'partial') {
    // A guest of the partial server gets the same shell and a guest's hole.
    problems.push(
      ...problemsOf(await get(server, undefined), undefined, 'partial').map((p) => `guest: ${p}`),
    );
  }
  if (problems.length > 0) {
    throw new Error(`[kiln/benchmarks] partial-http ${kind}: ${problems.join('; ')}`);
  }
  return Buffer.byteLength(first.body);
}

interface Row {
  kind: ServerKind;
  label: string;
  bytes: number;
  firstByteMs: number[];
  totalMs: number[];
  reqPerSec: number[];
  latencyP50Ms: number[];
  requests: number;
  errors: number;
  cpuMs: number;
}

const ROWS: { kind: ServerKind; label: string }[] = [
  { kind: 'static', label: 'static floor (precomputed bytes)' },
  { kind: 'page-cache', label: 'page cache hit (guest)' },
  { kind: 'full', label: 'full Kiln render (signed in)' },
  { kind: 'partial', label: 'partial: shell + hole (signed in)' },
  { kind: 'bound', label: 'bound: the shell’s bytes first, then the same resume (no cache)' },
];

/** Runs the benchmark and returns its Markdown table. */
export default async function run(): Promise<string> {
  const rounds = quick ? 1 : 5;
  const requestsPerRound = quick ? 3 : 30;
  const seconds = 3;
  const warmupSeconds = quick ? 0 : 2;
  const connections = quick ? 2 : 10;
  const amount = quick ? 4 : undefined;
  // Loaded here, not at the top: the server children import this file and never use it.
  const { default: autocannon } = await import('autocannon');
  const load = (origin: string, user: string | undefined, duration: number, count?: number) =>
    autocannon({
      url: `${origin}/`,
      connections,
      ...(count ? { amount: count } : { duration }),
      timeout: 30,
      headers: {
        'user-agent': 'Mozilla/5.0 (kiln-benchmarks)',
        ...(user ? { cookie: `user=${user}` } : {}),
      },
    });

  const notes: string[] = [];
  const servers: Started[] = [];
  const serverFile = await bundleServer(thisFile);
  try {
    const started = await Promise.allSettled(ROWS.map(({ kind }) => start(serverFile, kind)));
    for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    const rows: Row[] = [];
    for (const [index, { kind, label }] of ROWS.entries()) {
      rows.push({
        kind,
        label,
        bytes: await check(servers[index] as Started),
        firstByteMs: [],
        totalMs: [],
        reqPerSec: [],
        latencyP50Ms: [],
        requests: 0,
        errors: 0,
        cpuMs: 0,
      });
    }
    if (warmupSeconds > 0) {
      for (const server of servers) await load(server.origin, userOf(server.kind), warmupSeconds);
    }
    for (let round = 0; round < rounds; round++) {
      for (const index of shuffle(ROWS.map((_row, i) => i))) {
        const server = servers[index] as Started;
        const row = rows[index] as Row;
        const user = userOf(server.kind);
        for (let i = 0; i < requestsPerRound; i++) {
          const timed = await get(server, user);
          row.firstByteMs.push(timed.firstByteMs);
          row.totalMs.push(timed.totalMs);
        }
        const cpuBefore = await serverCpuMs(server.origin);
        const result = await load(server.origin, user, seconds, amount);
        row.cpuMs += (await serverCpuMs(server.origin)) - cpuBefore;
        row.reqPerSec.push(result.requests.total / (result.duration || seconds));
        row.requests += result.requests.total;
        row.errors += result.errors + result.non2xx;
        row.latencyP50Ms.push(result.latency.p50);
      }
    }
    for (const row of rows) {
      if (row.errors > 0 || row.requests === 0) {
        notes.push(
          `${row.label}: ${row.requests} requests completed under load, ${row.errors} failed`,
        );
      }
    }

    const byKind = (kind: ServerKind) => rows.find((row) => row.kind === kind) as Row;
    const firstByte = (row: Row) => quantile(row.firstByteMs, 0.5);
    const cpuPerRequest = (row: Row) => (row.requests > 0 ? row.cpuMs / row.requests : Number.NaN);
    const floorFirstByte = firstByte(byKind('static'));
    const fullCpu = cpuPerRequest(byKind('full'));
    const partial = byKind('partial');
    const lines = [
      `### Partial pre-rendering over HTTP (Express 5, loopback), the shop page (60 cards, the header is the hole), ${rounds} interleaved round${rounds > 1 ? 's' : ''}`,
      '',
      '| row | first byte ms (median) | p90 | × floor first byte | whole page ms (median) | req/s (median, autocannon) | p50 ms under load | server CPU ms/req | × full render CPU | bytes |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const row of rows) {
      lines.push(
        `| ${row.label} | ${formatMs(firstByte(row))} | ${formatMs(quantile(row.firstByteMs, 0.9))} | ${formatRatio(firstByte(row) / floorFirstByte)} | ${formatMs(quantile(row.totalMs, 0.5))} | ${quantile(row.reqPerSec, 0.5).toFixed(1)} | ${formatMs(quantile(row.latencyP50Ms, 0.5))} | ${formatMs(cpuPerRequest(row))} | ${formatRatio(cpuPerRequest(row) / fullCpu)} | ${row.bytes} |`,
      );
    }
    const firstByteRatio = firstByte(partial) / floorFirstByte;
    const cpuRatio = cpuPerRequest(partial) / fullCpu;
    lines.push(
      '',
      `Goals: partial first byte ≤ 1.5× the floor's: ${formatRatio(firstByteRatio)} (${firstByteRatio <= 1.5 ? 'met' : 'not met'}; a page-cache hit, which renders nothing, ${formatRatio(firstByte(byKind('page-cache')) / floorFirstByte)}; the bound, no Kiln work before the first byte, ${formatRatio(firstByte(byKind('bound')) / floorFirstByte)}); partial server CPU ≤ 0.35× a full render's: ${formatRatio(cpuRatio)} (${cpuRatio <= 0.35 ? 'met' : 'not met'}).`,
      '',
      `<sub>first byte: ${requestsPerRound} sequential requests per round over one kept-alive connection; load: autocannon ${connections} connections × ${amount ? `${amount} requests` : `${seconds} s`} per round after a ${warmupSeconds} s warm-up; every response but the floor's has its own nonce, checked before timing${quick ? '; quick run: figures mean nothing' : ''}</sub>`,
    );
    for (const note of notes) lines.push('', `> ${note}`);
    saveResults('partial-http', {
      rounds,
      requestsPerRound,
      seconds,
      connections,
      amount,
      firstByteRatio,
      cpuRatio,
      rows: rows.map((row) => ({
        ...row,
        firstByteMedianMs: firstByte(row),
        cpuMsPerRequest: cpuPerRequest(row),
      })),
      notes,
    });
    return lines.join('\n');
  } finally {
    for (const server of servers) {
      server.agent.destroy();
      await server.stop();
    }
    rmSync(serverFile, { force: true });
  }
}

const serverKind = process.env.KILN_PARTIAL_BENCH_SERVER as ServerKind | undefined;
if (serverKind !== undefined && process.send) {
  if (!SERVER_KINDS.includes(serverKind)) {
    throw new Error(
      `[kiln/benchmarks] unknown partial server ${serverKind}; use one of ${SERVER_KINDS.join(', ')}`,
    );
  }
  serve(serverKind).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
