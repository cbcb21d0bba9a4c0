import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Holds the demo's staff picks back while a test looks at the shell. Open by default; `close()`
 * makes every picks query that reaches it wait until `open()`.
 */
export interface PicksGate {
  close(): void;
  open(): void;
}

/** An in-process {@link PicksGate}: pass `gate.wait` as the server's `picksGate` option. */
export class LocalPicksGate implements PicksGate {
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;

  /** Resolves at once while open, else when the gate opens. */
  readonly wait = (): Promise<void> => this.#held ?? Promise.resolve();

  close(): void {
    if (this.#held) return;
    this.#held = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
  }

  open(): void {
    this.#release?.();
    this.#held = undefined;
    this.#release = undefined;
  }
}

/**
 * A {@link PicksGate} for a server in another process: it answers `GET url` at once while open,
 * and holds the answer while closed. The server's `PICKS_GATE_URL` points at it.
 */
export interface HttpPicksGate extends PicksGate {
  url: string;
  stop(): Promise<void>;
}

/** Starts an {@link HttpPicksGate} on a free loopback port. */
export async function startHttpPicksGate(): Promise<HttpPicksGate> {
  let closed = false;
  let waiting: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    if (closed) waiting.push(res);
    else res.end('open');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => {
      closed = true;
    },
    open: () => {
      closed = false;
      for (const res of waiting) res.end('open');
      waiting = [];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
