/**
 * A browser that goes away mid-stream stops the work done for it. The example shop renders
 * through Kiln against its GraphQL server on its own loopback port, whose staff picks are
 * slow; a raw HTTP client reads the shell and drops the connection. The render is aborted
 * and reported once as a disconnect, the GraphQL request still in flight is cancelled (the
 * GraphQL server sees its client go away), every connection closes, Kiln removes the
 * listeners it put on the socket, the response and a long-lived `signal`, and after ten
 * disconnects the process holds no more timers, sockets or other handles than before. A
 * keep-alive connection that serves several pages gathers no listeners either.
 */
import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import {
  Agent,
  createServer,
  get,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError, type RenderDiagnostics, type RenderErrorInfo } from '@kiln/core';
import { createShop, createShopGraphQL, createShopStore, type Shop } from '@kiln/example-app';
import { buildClient } from '@kiln/example-app/build';
import { CHROME_UA } from '@kiln/example-app/test-support';
import { type Listening, listen } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The staff picks never arrive while a test runs: the stream is always cut before them. */
const PICKS_LATENCY_MS = 60_000;

/** Generous bound for everything that must happen after a disconnect (the machine is shared). */
const SETTLE_MS = 10_000;

const DISCONNECTS = 10;

/** One GraphQL request as the GraphQL server saw it. */
interface GraphQLRequestLog {
  operation: string;
  /** `undefined` while the request is open; `true` if the client went away before the response ended. */
  aborted: boolean | undefined;
}

/** One page request as the page server saw it. */
interface PageRender {
  finished: Promise<RenderDiagnostics>;
  errors: { error: unknown; info: RenderErrorInfo }[];
  /** Listener counts on the server's socket and response before Kiln got them, and a reader for now. */
  listenersBefore: Record<string, number>;
  listenersNow(): Record<string, number>;
  /** The client's port: the same for requests on one keep-alive connection. */
  clientPort: number | undefined;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`'s value, or null if it takes longer than `ms` (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true or `ms` pass; returns its last answer. */
async function until(check: () => boolean | Promise<boolean>, ms = SETTLE_MS): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await wait(20);
  }
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/** How many of each kind of resource keeps the event loop alive (timers, sockets, servers…). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** The kinds of which there are now more than in `baseline`, with both counts. */
function above(baseline: Record<string, number>): Record<string, [number, number]> {
  const grown: Record<string, [number, number]> = {};
  for (const [kind, count] of Object.entries(activeResources())) {
    if (count > (baseline[kind] ?? 0)) grown[kind] = [baseline[kind] ?? 0, count];
  }
  return grown;
}

/**
 * GETs `url` over a raw TCP connection as a browser, reads until `enough(text)` holds, then
 * destroys the socket like a closed tab. Resolves with what was read.
 */
function readThenDrop(url: string, cookie: string, enough: (text: string) => boolean) {
  const { hostname, port, pathname } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(
        `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUser-Agent: ${CHROME_UA}\r\nCookie: ${cookie}\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (enough(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed early after:\n${text}`)));
  });
}

describe('a client that disconnects mid-stream', () => {
  let assetsDir: string;
  let graphqlServer: Server;
  const graphqlLog: GraphQLRequestLog[] = [];
  let shop: Shop;
  let site: Listening;
  /** A signal that lives as long as the server (a shutdown signal), passed to every render. */
  const lifetime = new AbortController();
  const renders: PageRender[] = [];
  let baseline: Record<string, number>;

  const openGraphQLRequests = () => graphqlLog.filter((r) => r.aborted === undefined).length;

  /** One disconnect, with every check on what must follow it. */
  async function disconnectOnce(visitor: string): Promise<void> {
    const renderCount = renders.length;
    const logCount = graphqlLog.length;
    const shell = await readThenDrop(
      site.url,
      `kiln_visitor=${visitor}`,
      (text) => text.includes('data-testid="picks-loading"') && text.includes('</footer>'),
    );
    // The shell went out, personalised, with the picks still pending.
    expect(shell).toMatch(/^HTTP\/1\.1 200 /);
    expect(shell).toContain(`Welcome back, <strong>${visitor}</strong>`);
    expect(shell).not.toContain('data-testid="picks"');
    expect(renders).toHaveLength(renderCount + 1);
    const render = renders[renderCount]!;

    // The render ends (it would otherwise wait PICKS_LATENCY_MS) and says why, once.
    const diagnostics = await within(render.finished, SETTLE_MS);
    expect(diagnostics, 'the render never finished').not.toBeNull();
    expect(diagnostics!.endMs).toBeLessThan(PICKS_LATENCY_MS);
    expect(render.errors).toHaveLength(1);
    const [{ error, info }] = render.errors as [PageRender['errors'][number]];
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).code).toBe('KILN_CLIENT_DISCONNECTED');
    expect(info.phase).toBe('abort');

    // The GraphQL server saw the page's two queries; the slow one was cancelled by its client.
    const mine = () => graphqlLog.slice(logCount);
    expect(
      await until(() => mine().some((r) => r.operation === 'Picks' && r.aborted === true)),
      `GraphQL requests: ${JSON.stringify(mine())}`,
    ).toBe(true);
    expect(mine()).toEqual([
      { operation: 'Home', aborted: false },
      { operation: 'Picks', aborted: true },
    ]);
    expect(openGraphQLRequests()).toBe(0);

    // The page's connection is closed, and Kiln took back its listeners.
    expect(await until(async () => (await connections(site.server)) === 0)).toBe(true);
    expect(render.listenersNow()).toEqual(render.listenersBefore);
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
  }

  beforeAll(async () => {
    assetsDir = await mkdtemp(join(tmpdir(), 'kiln-disconnect-'));
    await buildClient({ outDir: assetsDir });

    const yoga = createShopGraphQL({ store: createShopStore(), picksLatencyMs: PICKS_LATENCY_MS });
    graphqlServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      const entry: GraphQLRequestLog = { operation: '(unread)', aborted: undefined };
      graphqlLog.push(entry);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        entry.operation = (JSON.parse(body) as { operationName?: string }).operationName ?? '?';
      });
      res.on('close', () => {
        entry.aborted = !res.writableFinished;
      });
      void yoga(req, res);
    });
    // The server closes idle keep-alive connections soon, so "no connection left" is quick to see.
    graphqlServer.keepAliveTimeout = 100;
    await new Promise<void>((resolve) => graphqlServer.listen(0, '127.0.0.1', resolve));
    const { port } = graphqlServer.address() as AddressInfo;

    let current: PageRender['errors'] = [];
    shop = await createShop({
      graphqlUrl: `http://127.0.0.1:${port}/graphql`,
      assetsDir,
      onError: (error, info) => current.push({ error, info }),
    });
    site = await listen(async (req, res) => {
      const socket = req.socket;
      const count = () => ({
        'socket close': socket.listenerCount('close'),
        'socket error': socket.listenerCount('error'),
        'response close': res.listenerCount('close'),
        'response error': res.listenerCount('error'),
        'response drain': res.listenerCount('drain'),
      });
      const listenersBefore = count();
      const errors: PageRender['errors'] = [];
      current = errors;
      const result = await shop.render(req, { signal: lifetime.signal });
      renders.push({
        finished: result.finished,
        errors,
        listenersBefore,
        listenersNow: count,
        clientPort: socket.remotePort,
      });
      result.pipe(res);
    });

    // The baseline: both servers listening, nothing rendered yet.
    baseline = activeResources();
  });

  afterAll(async () => {
    lifetime.abort();
    await site?.close();
    if (graphqlServer) {
      graphqlServer.closeAllConnections();
      await new Promise<void>((resolve) => graphqlServer.close(() => resolve()));
    }
    if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  });

  it('aborts the render, reports it once, cancels the GraphQL request in flight', async () => {
    await disconnectOnce('Ada');
  });

  it(`leaves no connection, timer, socket or listener behind after ${DISCONNECTS} disconnects`, async () => {
    for (let i = 0; i < DISCONNECTS; i++) await disconnectOnce(`Visitor${i}`);
    // Node's fetch may keep an idle connection to the GraphQL server for a few seconds.
    expect(await until(async () => (await connections(graphqlServer)) === 0)).toBe(true);
    const drained = await until(() => Object.keys(above(baseline)).length === 0);
    expect(drained ? {} : above(baseline), 'resources above the baseline: [before, now]').toEqual(
      {},
    );
    expect(graphqlLog).toHaveLength(2 * renders.length);
    expect(openGraphQLRequests()).toBe(0);
  });

  it('leaves no listener on a keep-alive connection after the requests it served', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = renders.length;
    const after: Record<string, number>[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        // A page without the slow section, so each request completes.
        const status = await new Promise<number>((resolve, reject) => {
          get(
            `${site.url}/no/such/page`,
            { agent, headers: { 'user-agent': CHROME_UA } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          ).on('error', reject);
        });
        expect(status).toBe(404);
        const render = renders.at(-1)!;
        await render.finished;
        after.push(render.listenersNow());
      }
    } finally {
      agent.destroy();
    }
    const served = renders.slice(first);
    expect(new Set(served.map((r) => r.clientPort)).size).toBe(1);
    served.forEach((render, i) => {
      expect(render.errors).toEqual([]);
      expect(render.listenersBefore).toEqual(served[0]!.listenersBefore);
      expect(after[i]).toEqual(after[0]);
    });
  });
});
