import { request } from 'node:http';

/** A browser's user agent (Kiln streams to it) and a crawler's (Kiln buffers for it). */
export const CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
export const GOOGLEBOT_UA =
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** A fetched page. */
export interface Page {
  status: number;
  headers: Headers;
  html: string;
}

/** GETs a page as a browser (or as `userAgent`), without following redirects. */
export async function getPage(
  url: string,
  init: { cookie?: string; userAgent?: string } = {},
): Promise<Page> {
  const headers: Record<string, string> = { 'user-agent': init.userAgent ?? CHROME_UA };
  if (init.cookie) headers.cookie = init.cookie;
  const response = await fetch(url, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

/** One chunk of a response body and when it arrived (ms after the request was sent). */
export interface TimedChunk {
  at: number;
  text: string;
}

/**
 * GETs a page over a raw HTTP connection and records when each chunk of the body arrives.
 * `onChunk` may return `'disconnect'` to drop the connection there, like a browser tab closed
 * mid-stream.
 */
export function getTimed(
  url: string,
  onChunk?: (chunk: TimedChunk) => 'disconnect' | undefined,
): Promise<{ status: number; chunks: TimedChunk[]; disconnected: boolean }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const chunks: TimedChunk[] = [];
    const req = request(url, { headers: { 'user-agent': CHROME_UA } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        const chunk = { at: performance.now() - started, text };
        chunks.push(chunk);
        if (onChunk?.(chunk) === 'disconnect') {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, chunks, disconnected: true });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, chunks, disconnected: false }));
      res.on('error', () => {});
    });
    req.on('error', (error) => {
      if (!req.destroyed || chunks.length === 0) reject(error);
    });
    req.end();
  });
}

/** A loopback URL where nothing listens (the port was just free). */
export async function deadEndpoint(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}
