/**
 * @module
 * Page responses read by the benchmarks: what they check in a response's head, and one GET over
 * a kept-alive connection timed to the first body byte and to the end (the first-byte figures
 * of `pnpm bench partial-http`).
 */
import { type Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';

/** What the benchmarks check in the head of a page response. */
export interface PageHead {
  status: number;
  /** The `x-kiln-cache` header, or `null`. */
  cache: string | null;
  /** The nonce of the `content-security-policy` header, or `''`. */
  nonce: string;
}

/** The {@link PageHead} of `res`. */
export function pageHead(res: IncomingMessage): PageHead {
  const csp = String(res.headers['content-security-policy'] ?? '');
  const cache = res.headers['x-kiln-cache'];
  return {
    status: res.statusCode ?? 0,
    cache: typeof cache === 'string' ? cache : null,
    nonce: /'nonce-([^']+)'/.exec(csp)?.[1] ?? '',
  };
}

/** A response of {@link timedGet}. */
export interface Timed extends PageHead {
  body: string;
  /** Milliseconds from handing the request to the socket to the first body byte. */
  firstByteMs: number;
  totalMs: number;
}

/**
 * GETs `origin` + `/` through `agent` (keep-alive: one connection reused request after request),
 * with the `user` cookie when given.
 *
 * A connection left idle past the server's keep-alive timeout is closed by the server, and a
 * busy client can send on it before it sees the close: the request fails with ECONNRESET
 * without reaching the server. Such a request, on a reused connection only, is sent once more
 * on a new one, as browsers do (the `reusedSocket` pattern of Node's `http` docs).
 */
export function timedGet(
  target: { origin: string; agent: Agent },
  user: string | undefined,
  retried = false,
): Promise<Timed> {
  return new Promise<Timed>((resolve, reject) => {
    const headers: Record<string, string> = {
      'user-agent': 'Mozilla/5.0 (kiln-benchmarks)',
      ...(user ? { cookie: `user=${encodeURIComponent(user)}` } : {}),
    };
    const req = httpRequest(`${target.origin}/`, { agent: target.agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let firstByteMs = -1;
      res.on('data', (chunk: Buffer) => {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        chunks.push(chunk);
      });
      res.on('end', () => {
        resolve({
          ...pageHead(res),
          body: Buffer.concat(chunks).toString('utf8'),
          firstByteMs,
          totalMs: performance.now() - started,
        });
      });
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('request timed out')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET') {
        resolve(timedGet(target, user, true));
      } else {
        reject(error);
      }
    });
    // Timed from the moment the request is handed to the socket.
    const started = performance.now();
    req.end();
  });
}
