/**
 * The server process of `memory.test.ts`: the Express example shop on 127.0.0.1 (a free port),
 * started with `--expose-gc`. It reports `{ type: 'ready', url }` over IPC; on
 * `{ type: 'measure', id }` it runs full garbage collections until the heap stops shrinking and
 * answers with the heap in use, its active resources counted by type and the listeners on its
 * open connections. It closes and exits when the parent disconnects.
 *
 * Environment: `KILN_MEMORY_ASSETS` (the client build folder, required), and
 * `KILN_MEMORY_LEAK=1` for the negative control: every request's HTML, request and response
 * are then kept in a module-level array and a ten-minute timer is left per request, the leaks
 * the test exists to catch.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { getHeapSpaceStatistics } from 'node:v8';
import type { RenderErrorInfo } from '@kiln/core';

/** What the parent sends. */
export interface MeasureRequest {
  type: 'measure';
  id: number;
}

/** What the child sends. */
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'measured'; id: number; sample: MemorySample };

/** The child's heap and live resources after full garbage collections. */
export interface MemorySample {
  /** `process.memoryUsage().heapUsed` after the last collection, in bytes. */
  heapUsed: number;
  /** The heap after each collection, in bytes (it stops shrinking before the last one). */
  heapAfterEachGc: number[];
  /** Used bytes of each V8 heap space (`old_space`, `code_space`...), after the last collection. */
  spaces: Record<string, number>;
  /** `process.getActiveResourcesInfo()` counted by type (`Timeout`, `Immediate`, `TCPSocketWrap`...). */
  resources: Record<string, number>;
  /** The most event listeners any open connection has (all events together). */
  connectionListeners: number;
  /** Connections that served a request and are still open. */
  connections: number;
  /** Requests served so far whose `IncomingMessage` is still reachable (each pins its render). */
  requestsAlive: number;
  /** Timers of Apollo's suspense cache armed so far (its `autoDisposeTimeoutMs`, 30 s). */
  suspenseTimersArmed: number;
  /** Render errors reported so far, counted by phase. */
  errors: Record<string, number>;
}

interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
  socket: Socket;
}

const gc = globalThis.gc;
if (!gc) throw new Error('[kiln/reliability] memory-child needs node --expose-gc');
const send = process.send?.bind(process);
if (!send) throw new Error('[kiln/reliability] memory-child must be forked with an IPC channel');
const assetsDir = process.env.KILN_MEMORY_ASSETS;
if (!assetsDir) throw new Error('[kiln/reliability] memory-child needs KILN_MEMORY_ASSETS');

const errors: Record<string, number> = {};
const onError = (_error: unknown, info: RenderErrorInfo): void => {
  errors[info.phase] = (errors[info.phase] ?? 0) + 1;
};

// Apollo's suspense cache arms a 30 s timer (`autoDisposeTimeoutMs`) for each query reference
// (`useSuspenseQuery` on the home and product pages) and Kiln must clear it when the request
// ends. Counting the timers armed shows that the run exercised them.
const APOLLO_AUTO_DISPOSE_MS = 30_000;
let suspenseTimersArmed = 0;
const originalSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = Object.assign((...args: Parameters<typeof setTimeout>) => {
  if (args[1] === APOLLO_AUTO_DISPOSE_MS) suspenseTimersArmed++;
  return originalSetTimeout(...args);
}, originalSetTimeout) as typeof setTimeout;

// The open connections, to count the listeners on them: a listener added per request and never
// removed piles up on a keep-alive connection (and keeps each request's render alive with it).
// And a weak reference to every request, to count those still reachable.
const connections = new Set<Socket>();
const requests = new Set<WeakRef<IncomingMessage>>();
const pruneRequests = (): void => {
  for (const ref of requests) if (ref.deref() === undefined) requests.delete(ref);
};
subscribe('http.server.request.start', (message) => {
  const { request, socket } = message as RequestStart;
  requests.add(new WeakRef(request));
  if (connections.has(socket)) return;
  connections.add(socket);
  socket.once('close', () => connections.delete(socket));
});

if (process.env.KILN_MEMORY_LEAK === '1') {
  const leaked: unknown[] = [];
  subscribe('http.server.request.start', (message) => {
    const { request, response } = message as RequestStart;
    const html: string[] = [];
    leaked.push(request, response, html);
    const write = response.write.bind(response) as (...args: unknown[]) => boolean;
    response.write = ((...args: unknown[]) => {
      html.push(String(args[0]));
      return write(...args);
    }) as ServerResponse['write'];
    setTimeout(() => html.length, 600_000);
  });
}

// tsx turns source maps on; Node then parses a module's map (hundreds of KiB each) the first time
// a stack trace through that module is formatted, at whichever request first reads such a stack
// (measured: about 5 MiB appearing between the two samples). That is not the server's doing, and a
// built server runs without them. Off before the server's modules load.
process.setSourceMapsEnabled(false);
const { startServer } = await import('@kiln/example-express');
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  assetsDir,
  picksLatencyMs: 5,
  onError,
});

/** A timer turn: lets V8's FinalizationRegistry cleanup tasks run between collections. */
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Full collections, a timer turn after each, until two in a row differ by less than 64 KiB (at
 * least 3, at most 8).
 */
async function measure(): Promise<MemorySample> {
  // One collection first, to drop the weak references of collected requests (they are heap too).
  gc?.();
  await pause();
  pruneRequests();
  const heapAfterEachGc: number[] = [];
  for (let i = 0; i < 8; i++) {
    gc?.();
    await pause();
    heapAfterEachGc.push(process.memoryUsage().heapUsed);
    const [before, after] = heapAfterEachGc.slice(-2);
    if (i >= 2 && before !== undefined && after !== undefined && before - after < 64 * 1024) break;
  }
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  pruneRequests();
  let connectionListeners = 0;
  for (const socket of connections) {
    const total = socket
      .eventNames()
      .reduce<number>((sum, name) => sum + socket.listenerCount(name), 0);
    connectionListeners = Math.max(connectionListeners, total);
  }
  return {
    heapUsed: heapAfterEachGc.at(-1) ?? 0,
    heapAfterEachGc,
    spaces: Object.fromEntries(
      getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]),
    ),
    resources,
    connectionListeners,
    connections: connections.size,
    requestsAlive: requests.size,
    suspenseTimersArmed,
    errors: { ...errors },
  };
}

process.on('message', (message: MeasureRequest) => {
  if (message.type !== 'measure') return;
  void measure().then((sample) => {
    const reply: ChildMessage = { type: 'measured', id: message.id, sample };
    send(reply);
  });
});
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});

const ready: ChildMessage = { type: 'ready', url: server.url };
send(ready);
