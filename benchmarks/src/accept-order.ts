/**
 * @module
 * `pnpm --filter @kiln/benchmarks bench:accept [work ms] [seconds]`: how a saturated Node
 * server orders new connections, with no Kiln and no React in it. The server (plain `node:http`
 * in a child process) spends `work` ms of CPU per request (default 80, about a render of the
 * shop page) and answers 1 KB. The client opens one keep-alive connection, and once the server
 * is busy with its first request, 9 more at once (as a load generator's connections arrive at a
 * server still busy with earlier work); it sends requests on each in a loop for `seconds`
 * (default 4).
 *
 * Printed: when the server accepted each connection and when its first response came, then
 * p50, p99 and p99/p50 over every response and over the responses of open connections (each
 * connection's first left out). It explains the two tail columns of `pnpm bench http`.
 */
import { fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { formatMs, formatRatio, quantile } from './harness';

const CONNECTIONS = 10;

/** The child: a server busy for `workMs` of CPU per request; reports accept times over IPC. */
function serve(workMs: number): void {
  const started = performance.now();
  const accepted: number[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/__accepted') {
      res.end(JSON.stringify(accepted));
      return;
    }
    const until = performance.now() + workMs;
    while (performance.now() < until) {
      // CPU work, as a synchronous render does
    }
    res.end('x'.repeat(1024));
  });
  server.on('connection', () => accepted.push(performance.now() - started));
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('disconnect', () => process.exit(0));
}

function get(port: number, agent: Agent, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const workMs = Number(process.argv[2] ?? 80);
  const seconds = Number(process.argv[3] ?? 4);
  if (!(workMs > 0) || !(seconds > 0)) {
    throw new Error('[kiln/benchmarks] usage: bench:accept [work ms > 0] [seconds > 0]');
  }
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, KILN_ACCEPT_SERVER: String(workMs) },
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { port: number }));
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code}`)));
  });
  try {
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const begun = performance.now();
    const firstResponse: number[] = [];
    const all: number[] = [];
    const open: number[] = [];
    const stopAt = begun + seconds * 1000;
    // One loop per connection: the agent gives each loop a socket of its own.
    const loop = async (): Promise<void> => {
      let first = true;
      while (performance.now() < stopAt) {
        const sent = performance.now();
        await get(port, agent);
        const ms = performance.now() - sent;
        all.push(ms);
        if (first) firstResponse.push(performance.now() - begun);
        else open.push(ms);
        first = false;
      }
    };
    const loops = [loop()];
    // The first request is being served (a quarter of its work done): the others connect now.
    await new Promise((resolve) => setTimeout(resolve, workMs / 4));
    for (let i = 1; i < CONNECTIONS; i++) loops.push(loop());
    await Promise.all(loops);
    agent.destroy();
    const accepted = JSON.parse(await get(port, new Agent(), '/__accepted')) as number[];
    firstResponse.sort((a, b) => a - b);
    const lines = [
      `### A plain node:http server busy ${workMs} ms per request; 1 connection, then ${CONNECTIONS - 1} more at once while it is served; ${seconds} s`,
      '',
      '| connection (in the order accepted) | accepted at ms | first response at ms |',
      '| ---: | ---: | ---: |',
      ...firstResponse.map(
        (at, i) => `| ${i + 1} | ${formatMs(accepted[i] ?? Number.NaN)} | ${formatMs(at)} |`,
      ),
      '',
      '| responses | count | p50 ms | p99 ms | p99/p50 |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...(
        [
          ['all', all],
          ['open connections (first of each left out)', open],
        ] as const
      ).map(
        ([label, values]) =>
          `| ${label} | ${values.length} | ${formatMs(quantile(values, 0.5))} | ${formatMs(quantile(values, 0.99))} | ${formatRatio(quantile(values, 0.99) / quantile(values, 0.5))} |`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    child.disconnect();
  }
}

const serverWork = process.env.KILN_ACCEPT_SERVER;
if (serverWork !== undefined && process.send) serve(Number(serverWork));
else await main();
