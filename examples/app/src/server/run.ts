import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShopOptions } from './shop';

/** Options of every example server's `startServer()`. */
export interface ServerOptions extends ShopOptions {
  /** Port to listen on (default 3000; 0 picks a free one). */
  port?: number;
  /** Interface to listen on (default: all). */
  host?: string;
}

/** A started example server. */
export interface RunningServer {
  /** Where it listens, e.g. `http://localhost:3000`. */
  url: string;
  /** Stops accepting connections, ends open ones and resolves when the server is closed. */
  close(): Promise<void>;
}

/**
 * Waits until a Node server listens and describes it as a {@link RunningServer}.
 *
 * @example
 * const running = await listening(app.listen(0, '127.0.0.1'));
 */
export async function listening(server: Server): Promise<RunningServer> {
  if (!server.listening) await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address === '::' || address === '0.0.0.0' ? 'localhost' : address;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A picks gate in another process: it is open once a GET of `url` answers. */
function remoteGate(url: string): () => Promise<unknown> {
  return async () => {
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok)
      throw new Error(`[kiln/example] the picks gate ${url} answered ${response.status}`);
  };
}

/**
 * Starts an example server from the environment (`PORT`, `HOST`, `GRAPHQL_URL`,
 * `PICKS_LATENCY_MS`, and for tests `PICKS_GATE_URL`: the staff picks answer only after a GET of
 * that URL does), prints its URL and closes it on SIGINT or SIGTERM.
 *
 * @example
 * await runFromEnvironment('Express', startServer);
 */
export async function runFromEnvironment(
  name: string,
  start: (options: ServerOptions) => Promise<RunningServer>,
): Promise<RunningServer> {
  const env = process.env;
  const running = await start({
    port: env.PORT ? Number(env.PORT) : 3000,
    host: env.HOST || undefined,
    graphqlUrl: env.GRAPHQL_URL || undefined,
    picksLatencyMs: env.PICKS_LATENCY_MS ? Number(env.PICKS_LATENCY_MS) : undefined,
    picksGate: env.PICKS_GATE_URL ? remoteGate(env.PICKS_GATE_URL) : undefined,
  });
  console.log(`Kiln example (${name}) listening on ${running.url}`);
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return running;
}
