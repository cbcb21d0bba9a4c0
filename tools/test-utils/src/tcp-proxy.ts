import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of one port, whose network a test can break in two ways and
 * restore: `cut()` resets every connection (a peer that is gone), `blackhole()` keeps them open
 * and delivers nothing either way (a partition: packets lost, no reset, only timeouts tell).
 */
export interface TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** `host:port` of the proxy. */
  readonly address: string;
  /** True while the proxy forwards (neither cut nor a black hole). */
  readonly open: boolean;
  /** Connections forwarded now. */
  readonly connections: number;
  /** Destroys every forwarded connection and refuses (resets) new ones until `restore`. */
  cut(): void;
  /** Holds every byte of every connection, old and new, until `restore` (nothing is reset). */
  blackhole(): void;
  /** Forwards again: new connections, and what a black hole held. */
  restore(): void;
  /** Resolves once `count` connections are forwarded (e.g. a client reconnected). */
  waitConnections(count: number): Promise<void>;
  /** Cuts every connection and closes the proxy. */
  close(): Promise<void>;
}

/** Starts a {@link TcpProxy} on a free loopback port that forwards to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const waiters: { count: number; resolve: () => void }[] = [];
  let open = true;
  let holding = false;
  /** Starts forwarding a connected pair both ways (unless the network is a black hole). */
  const forward = ([client, upstream]: [Socket, Socket]): void => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const hold = ([client, upstream]: [Socket, Socket]): void => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const notify = (): void => {
    for (const waiter of [...waiters]) {
      if (pairs.size >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const server = createServer((client) => {
    if (!open) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    const drop = (): void => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.once('connect', () => {
      if (!pairs.has(pair)) return;
      if (!holding) forward(pair);
      notify();
    });
    pairs.add(pair);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const cutAll = (): void => {
    for (const [client, upstream] of [...pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    address: `127.0.0.1:${port}`,
    get open() {
      return open;
    },
    get connections() {
      return pairs.size;
    },
    cut() {
      open = false;
      holding = false;
      cutAll();
    },
    blackhole() {
      holding = true;
      for (const pair of pairs) hold(pair);
    },
    restore() {
      open = true;
      if (holding) {
        holding = false;
        for (const pair of pairs) forward(pair);
      }
    },
    waitConnections(count) {
      return new Promise((resolve) => {
        waiters.push({ count, resolve });
        notify();
      });
    },
    async close() {
      open = false;
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
