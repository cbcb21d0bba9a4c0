/**
 * Proves that the Express example shop retains nothing per request. A child process
 * (`support/memory-child.ts`, `node --expose-gc`, React's production build) serves 2,000 requests
 * over loopback HTTP after a warm-up: streamed pages for a browser, buffered pages for a crawler,
 * many different signed-in visitors, home and product pages (their staff picks use
 * `useSuspenseQuery`, so each arms one of Apollo's 30 s suspense-cache timers), 404 pages,
 * redirects and requests dropped mid-stream. After full garbage collections, the heap at 2,000
 * requests is within 10% (plus 5 MiB) of the heap at 200, and no timers, immediates, sockets,
 * connection listeners or requests have accumulated. A negative control runs the same check
 * against a child that keeps each request's page and a timer, and the check catches it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClient } from '@kiln/example-app/build';
import { CHROME_UA, GOOGLEBOT_UA } from '@kiln/example-app/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildMessage, MeasureRequest, MemorySample } from './support/memory-child';

const childFile = fileURLToPath(new URL('./support/memory-child.ts', import.meta.url));
/**
 * The child runs from the Express example's folder: tsx compiles each file with the tsconfig of
 * its working directory, and that one covers the shop's sources (`jsx: react-jsx`).
 */
const expressDir = fileURLToPath(new URL('../../examples/express/', import.meta.url));

const MiB = 1024 * 1024;
/** Keep-alive sockets the load generator holds open (and its concurrency). */
const CONCURRENCY = 8;
/** Allowed growth of the heap between the two measurements, as a fraction of the first. */
const HEAP_GROWTH = 0.1;
/**
 * Absolute slack on top of {@link HEAP_GROWTH}. A few MiB move between two samples with nothing
 * leaking: V8 keeps optimised code for the functions that got hot (it lives on the heap and counts
 * in `heapUsed`; `code_space` alone grows 1.3–1.7 MiB between the samples here, see the printed
 * figures), and bounded caches (Apollo's and graphql-js's weak caches, Node's HTTP parser pool)
 * fill as they are used. 5 MiB is a fifth of this server's heap. The leaks it must not hide are
 * far larger: a page kept per request is about 30 KiB, 50 MiB over 1,800 requests; a request kept
 * whole (a suspense timer never cleared pins its render) about 125 KiB, over 200 MiB.
 */
const HEAP_SLACK = 5 * MiB;
/**
 * Timers and immediates an idle server may legitimately hold. A timer leaked per request
 * (Apollo's suspense-cache timer lives 30 s, Kiln's render timeout 10 s) is hundreds at either
 * measurement, so a small absolute bound catches it even where timers expire between the two.
 */
const IDLE_TIMERS = 4;
/**
 * Served requests an idle server may still reach: the last one, whose render context React
 * leaves on the context object until the next render, and one more for slack. Not one per idle
 * keep-alive connection (Kiln writes a response in the async context of its `pipe()` call, so
 * the keep-alive timer Node arms when a response finishes does not hold React's per-render
 * store: `packages/core/test/retention.test.tsx`); a leak is hundreds.
 */
const IDLE_REQUESTS = 2;

const PRODUCTS = ['kettle', 'teapot', 'mugs', 'grinder'];

/** One request of the mix and what its response must be. */
interface Planned {
  path: string;
  userAgent: string;
  visitor?: string;
  /** Expected status. */
  status: number;
  /** Text the complete body must contain (the page really rendered, data included). */
  contains?: string;
  /** Drop the connection after the first chunk of the body. */
  abort?: boolean;
}

/** The i-th request of the mix: ten kinds in turn, each with its own visitor and URL. */
function plan(i: number): Planned {
  const visitor = `Visitor ${i}`;
  const product = PRODUCTS[i % PRODUCTS.length] ?? 'kettle';
  const picks = 'data-testid="picks"';
  switch (i % 10) {
    case 0:
      return { path: '/', userAgent: CHROME_UA, status: 200, contains: picks };
    case 1:
      return { path: '/', userAgent: CHROME_UA, visitor, status: 200, contains: picks };
    case 2:
      return { path: '/', userAgent: GOOGLEBOT_UA, visitor, status: 200, contains: picks };
    case 3:
      return { path: '/?noscript=1', userAgent: CHROME_UA, visitor, status: 200, contains: picks };
    case 4:
      return {
        path: `/products/${product}`,
        userAgent: CHROME_UA,
        visitor,
        status: 200,
        contains: 'data-testid="views"',
      };
    case 5:
      return {
        path: `/products/${product}`,
        userAgent: GOOGLEBOT_UA,
        status: 200,
        contains: 'data-testid="views"',
      };
    case 6:
      return {
        path: `/no-such-page-${i}`,
        userAgent: CHROME_UA,
        visitor,
        status: 404,
        contains: 'data-testid="not-found"',
      };
    case 7:
      return {
        path: `/products/missing-${i}`,
        userAgent: GOOGLEBOT_UA,
        status: 404,
        contains: 'data-testid="not-found"',
      };
    case 8:
      return { path: `/signin?name=Visitor+${i}`, userAgent: CHROME_UA, status: 303 };
    default:
      return { path: '/', userAgent: CHROME_UA, visitor, status: 200, abort: true };
  }
}

/** Sends one planned request; returns a problem, or undefined when the response was as planned. */
function send(origin: string, agent: Agent, planned: Planned): Promise<string | undefined> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': planned.userAgent };
    if (planned.visitor) headers.cookie = `kiln_visitor=${encodeURIComponent(planned.visitor)}`;
    const req = request(`${origin}${planned.path}`, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (planned.abort) {
          req.destroy();
          resolve(
            res.statusCode === planned.status
              ? undefined
              : `${planned.path}: ${res.statusCode} before the drop`,
          );
        }
      });
      res.on('error', () => {});
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (planned.abort) resolve(`${planned.path}: ended before the planned drop`);
        else if (res.statusCode !== planned.status) {
          resolve(`${planned.path}: status ${res.statusCode}, expected ${planned.status}`);
        } else if (planned.contains && !body.includes(planned.contains)) {
          resolve(`${planned.path}: no ${planned.contains} in the page`);
        } else resolve(undefined);
      });
    });
    req.on('error', (error) => {
      if (!planned.abort || !req.destroyed) resolve(`${planned.path}: ${error.message}`);
    });
    req.end();
  });
}

/** The server child process. */
class MemoryChild {
  /** Children started and not stopped yet (`afterAll` stops any a failed test left behind). */
  static readonly running = new Set<MemoryChild>();

  private nextId = 0;
  private readonly waiting = new Map<number, (sample: MemorySample) => void>();
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly origin: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: ChildMessage) => {
      if (message.type !== 'measured') return;
      this.waiting.get(message.id)?.(message.sample);
      this.waiting.delete(message.id);
    });
  }

  static start(assetsDir: string, leak: boolean): Promise<MemoryChild> {
    const child = fork(childFile, [], {
      cwd: expressDir,
      execArgv: ['--expose-gc', '--import', 'tsx', '--conditions=@kiln/source'],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        KILN_MEMORY_ASSETS: assetsDir,
        KILN_MEMORY_LEAK: leak ? '1' : '',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('[kiln/reliability] the memory child did not start within 60 s'));
      }, 60_000);
      child.on('message', (message: ChildMessage) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        const started = new MemoryChild(child, message.url);
        MemoryChild.running.add(started);
        resolve(started);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`[kiln/reliability] the memory child exited with code ${code}`));
      });
    });
  }

  /** Asks the child for a sample after full collections. */
  measure(): Promise<MemorySample> {
    const id = this.nextId++;
    const message: MeasureRequest = { type: 'measure', id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('[kiln/reliability] the memory child did not measure within 30 s'));
      }, 30_000);
      this.waiting.set(id, (sample) => {
        clearTimeout(timer);
        resolve(sample);
      });
      this.child.send(message);
    });
  }

  /** Disconnects the child (it closes its server and exits); SIGKILL after 5 s. */
  async stop(): Promise<void> {
    MemoryChild.running.delete(this);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(killer);
  }
}

/** Drives a child through the request mix and samples it at chosen request counts. */
class Load {
  private sent = 0;
  readonly problems: string[] = [];
  readonly agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  constructor(private readonly child: MemoryChild) {}

  /** Sends requests (CONCURRENCY at a time) until `count` have completed in all. */
  async until(count: number): Promise<void> {
    const worker = async (): Promise<void> => {
      while (this.sent < count) {
        const problem = await send(this.child.origin, this.agent, plan(this.sent++));
        if (problem && this.problems.length < 20) this.problems.push(problem);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  /** Waits for the dropped connections to close on the server's side too, then samples. */
  async sample(): Promise<MemorySample> {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return this.child.measure();
  }
}

/** The samples of one run: after the warm-up, at the baseline and at the end. */
interface Run {
  warm: MemorySample;
  baseline: MemorySample;
  final: MemorySample;
  /** Responses that were not what the request mix expects (at most 20). */
  problems: string[];
}

/**
 * Starts a child, sends `warmUp` requests (every kind of request many times, so lazily built
 * modules, compiled code and bounded caches are in place), samples, sends `baseline` more,
 * samples, sends up to `total` after the warm-up, samples, and stops the child.
 */
async function run(
  assetsDir: string,
  options: { leak: boolean; warmUp: number; baseline: number; total: number },
): Promise<Run> {
  const child = await MemoryChild.start(assetsDir, options.leak);
  const load = new Load(child);
  try {
    await load.until(options.warmUp);
    const warm = await load.sample();
    await load.until(options.warmUp + options.baseline);
    const baseline = await load.sample();
    await load.until(options.warmUp + options.total);
    const final = await load.sample();
    return { warm, baseline, final, problems: load.problems };
  } finally {
    load.agent.destroy();
    await child.stop();
  }
}

const count = (sample: MemorySample, type: string): number => sample.resources[type] ?? 0;

/** What grew between `baseline` and `final`; empty when nothing did. */
function retentionProblems(baseline: MemorySample, final: MemorySample): string[] {
  const problems: string[] = [];
  const heapLimit = baseline.heapUsed * (1 + HEAP_GROWTH) + HEAP_SLACK;
  if (final.heapUsed > heapLimit) {
    problems.push(
      `heap ${mib(final.heapUsed)} MiB > ${mib(heapLimit)} MiB (baseline ${mib(baseline.heapUsed)} MiB)`,
    );
  }
  for (const type of ['Timeout', 'Immediate']) {
    const before = count(baseline, type);
    const after = count(final, type);
    if (after > before || after > IDLE_TIMERS) {
      problems.push(`${type}: ${after} active (baseline ${before}, idle limit ${IDLE_TIMERS})`);
    }
  }
  const sockets = count(final, 'TCPSocketWrap');
  if (sockets > CONCURRENCY) {
    problems.push(
      `TCPSocketWrap: ${sockets} open, more than the ${CONCURRENCY} keep-alive sockets`,
    );
  }
  if (final.requestsAlive > IDLE_REQUESTS) {
    problems.push(`requests alive: ${final.requestsAlive} (idle limit ${IDLE_REQUESTS})`);
  }
  if (final.connectionListeners > baseline.connectionListeners) {
    problems.push(
      `listeners on one connection: ${final.connectionListeners} (baseline ${baseline.connectionListeners})`,
    );
  }
  return problems;
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** Prints the figures of a run, so they appear in the test output. */
function report(label: string, result: Run, at: [string, string, string]): void {
  const samples: [string, MemorySample][] = [
    [at[0], result.warm],
    [at[1], result.baseline],
    [at[2], result.final],
  ];
  const lines = samples.map(
    ([when, s]) =>
      `  ${when.padStart(22)}: heap ${mib(s.heapUsed).padStart(5)} MiB ` +
      `(code ${mib(s.spaces.code_space ?? 0)} MiB; after each GC ${s.heapAfterEachGc.map(mib).join(' → ')}), ` +
      `Timeout ${count(s, 'Timeout')}, Immediate ${count(s, 'Immediate')}, ` +
      `TCPSocketWrap ${count(s, 'TCPSocketWrap')}, connections ${s.connections} ` +
      `(at most ${s.connectionListeners} listeners), requests alive ${s.requestsAlive}, suspense timers armed ${s.suspenseTimersArmed}, ` +
      `render errors ${JSON.stringify(s.errors)}`,
  );
  const ratio = (result.final.heapUsed / result.baseline.heapUsed).toFixed(3);
  const limit = mib(result.baseline.heapUsed * (1 + HEAP_GROWTH) + HEAP_SLACK);
  console.log(`[memory] ${label}\n${lines.join('\n')}\n  heap ratio ${ratio} (limit ${limit} MiB)`);
}

describe('memory and resource retention', () => {
  let workDir: string;
  let assetsDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'kiln-memory-'));
    assetsDir = join(workDir, 'client');
    await buildClient({ outDir: assetsDir });
  });

  afterAll(async () => {
    await Promise.all([...MemoryChild.running].map((child) => child.stop()));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('retains no heap, timers, sockets or listeners across 2,000 requests', async () => {
    const result = await run(assetsDir, { leak: false, warmUp: 100, baseline: 200, total: 2000 });
    report('2,000 requests after a 100-request warm-up', result, [
      'after warm-up',
      'at 200',
      'at 2,000',
    ]);
    expect(result.problems).toEqual([]);
    // Seven kinds of request in ten render the staff picks: most of the 1,800 requests between
    // the two samples armed (and, for the check below to pass, released) a suspense timer.
    const armed = result.final.suspenseTimersArmed - result.baseline.suspenseTimersArmed;
    expect(armed).toBeGreaterThan(1800 / 2);
    expect(retentionProblems(result.baseline, result.final)).toEqual([]);
  });

  it('catches a server that keeps each page and a timer per request (negative control)', async () => {
    const result = await run(assetsDir, { leak: true, warmUp: 100, baseline: 100, total: 700 });
    report('negative control: request, response, page and a timer kept per request', result, [
      'after warm-up',
      'at 100',
      'at 700',
    ]);
    expect(result.problems).toEqual([]);
    const problems = retentionProblems(result.baseline, result.final);
    expect(problems.some((p) => p.startsWith('heap '))).toBe(true);
    expect(problems.some((p) => p.startsWith('Timeout: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('requests alive: '))).toBe(true);
  });
});
