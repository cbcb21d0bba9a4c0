/**
 * Kiln behind Node's HTTP/2 server (`node:http2`, cleartext h2c here; TLS behaves the same for
 * Kiln): the compatibility API's request and response go straight to `renderToHtml` and
 * `pipe`, the document streams, and `ctx.url` takes its host from `:authority`, which replaces
 * `Host` in HTTP/2, by the same strict rule.
 */
import { connect, createServer, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Suspense, use } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderToHtml, useRenderContext } from '../src/index';

function Late({ value }: { value: Promise<string> }) {
  return <p id="late">{use(value)}</p>;
}

function Page({ value }: { value: Promise<string> }) {
  const ctx = useRenderContext();
  return (
    <html lang="en">
      <head />
      <body>
        <p id="url">{ctx.url.href}</p>
        <Suspense fallback={<p id="fallback">loading</p>}>
          <Late value={value} />
        </Suspense>
      </body>
    </html>
  );
}

describe('HTTP/2 (node:http2 compatibility API)', () => {
  let origin: string;
  let release: () => void = () => {};
  const server = createServer(async (req, res) => {
    // Resolved by the test once the client has seen the shell.
    const value = new Promise<string>((resolve) => {
      release = () => resolve('streamed after the shell');
    });
    const result = await renderToHtml(<Page value={value} />, {
      request: req as never,
      mode: 'stream',
      onError: () => {},
    });
    result.pipe(res as never);
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** GETs `path`; resolves the status and body, releasing the late part once the shell is in. */
  function get(
    headers: IncomingHttpHeaders,
  ): Promise<{ status: number; body: string; shellFirst: boolean }> {
    const client = connect(origin);
    return new Promise((resolve, reject) => {
      const req = client.request({ ':method': 'GET', ...headers });
      let status = 0;
      let body = '';
      let shellFirst = false;
      req.setEncoding('utf8');
      req.on('response', (head) => {
        status = Number(head[':status']);
      });
      req.on('data', (chunk: string) => {
        body += chunk;
        if (body.includes('id="fallback"') && !body.includes('id="late"')) {
          shellFirst = true;
          release();
        }
      });
      req.on('end', () => {
        client.close();
        resolve({ status, body, shellFirst });
      });
      req.on('error', (error) => {
        client.close();
        reject(error);
      });
      req.end();
    });
  }

  const urlOf = (body: string) => /<p id="url">([^<]*)<\/p>/.exec(body)?.[1];

  it('streams the shell, then the late part, over one HTTP/2 stream', async () => {
    const page = await get({ ':path': '/products/kettle?color=ash' });
    expect(page.status).toBe(200);
    expect(page.shellFirst).toBe(true);
    expect(page.body).toContain('streamed after the shell');
    expect(page.body.trimEnd().endsWith('</html>')).toBe(true);
    expect(urlOf(page.body)).toBe(`${origin}/products/kettle?color=ash`);
  });

  it('takes the host from :authority, not from a Host header that differs', async () => {
    const page = await get({ ':path': '/a', ':authority': 'Shop.Test:8443', host: 'other.test' });
    expect(urlOf(page.body)).toBe('http://shop.test:8443/a');
  });

  it('a hostile :authority cannot change the path: refused by HTTP/2, or the host becomes localhost', async () => {
    const reached: string[] = [];
    for (const authority of [
      'shop.test/admin#',
      'x@shop.test',
      'shop.test?q',
      'a b',
      'shop.test:99999',
    ]) {
      const page = await get({ ':path': '/public', ':authority': authority }).catch(
        (error: Error) => error,
      );
      if (page instanceof Error) {
        expect(page.message, authority).toMatch(/NGHTTP2_PROTOCOL_ERROR/);
        continue;
      }
      reached.push(authority);
      expect(urlOf(page.body), authority).toBe('http://localhost/public');
    }
    // Node's HTTP/2 layer lets some through: those are Kiln's to refuse.
    expect(reached.length).toBeGreaterThan(0);
  });
});
