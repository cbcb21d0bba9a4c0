/**
 * What every benchmark server process shares (the child side of `child-server.ts`): an Express
 * app that reports its CPU time, listening on a free loopback port reported to the parent, and
 * the CSP nonce of a response.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';

/** An Express 5 app without `x-powered-by` and ETags, with this process's CPU time at `/__cpu`. */
export function benchApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.get('/__cpu', (_req, res) => {
    res.json(process.cpuUsage());
  });
  return app;
}

/**
 * Listens on a free port of 127.0.0.1, reports `{ port }` to the parent over IPC, and closes and
 * exits when the parent disconnects (see `forkServer`).
 */
export function listenForParent(app: Express): void {
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ port });
  });
  // Idle connections are left for the client to close. Node's default agent drops a free
  // socket after 5 s, the server's default keep-alive timeout too: on a busy machine a request
  // could be sent on a connection the server is closing, and fail with ECONNRESET.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 61_000;
  process.on('disconnect', () => {
    server.close();
    process.exit(0);
  });
}

/** A fresh CSP nonce (16 random bytes, base64). */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The strict CSP of a page with `nonce`: scripts and styles only with the nonce. */
export function contentSecurityPolicy(nonce: string): string {
  return `default-src 'self'; script-src 'nonce-${nonce}' 'strict-dynamic'; style-src 'nonce-${nonce}'`;
}

/** Serves `body` (a page rendered with `nonce`) at `/`, precomputed: the static floor. */
export function servePrecomputed(app: Express, body: Buffer, nonce: string): void {
  app.get('/', (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'content-security-policy': contentSecurityPolicy(nonce),
    });
    res.end(body);
  });
}

/**
 * Serves `/` with `render`, a fresh nonce per response (in the CSP header and handed to
 * `render`), and `/__idle`, which answers once `idle()` (a cache's background writes) settled.
 */
export function serveRendered(
  app: Express,
  render: (
    request: IncomingMessage,
    nonce: string,
  ) => Promise<{ pipe(res: ServerResponse): unknown }>,
  idle: () => Promise<unknown> = () => Promise.resolve(),
): void {
  // A miss is stored after its response is sent: the checks wait for that write here.
  app.get('/__idle', async (_req, res) => {
    await idle();
    res.end();
  });
  app.get('/', async (req, res, next) => {
    try {
      const nonce = newNonce();
      res.setHeader('content-security-policy', contentSecurityPolicy(nonce));
      (await render(req, nonce)).pipe(res);
    } catch (error) {
      next(error);
    }
  });
}
