/**
 * Request URLs and redirects through a real `node:http` server, with requests written byte
 * for byte over raw sockets (no client library normalises them on the way).
 */
import { connect } from 'node:net';
import { type Listening, listen } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderToHtml, useRenderContext } from '../src/index';
import { Doc } from './helpers';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `head` as it is over a new connection and reads the response until the server closes it. */
function sendRaw(url: string, head: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error(`no response to ${head.slice(0, 60)}`));
      const [statusLine = '', ...lines] = all.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: all.slice(end + 4) });
    });
    socket.write(head, 'latin1');
  });
}

function get(url: string, target: string, host: string): Promise<RawResponse> {
  return sendRaw(url, `GET ${target} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
}

function ShowUrl(): React.ReactNode {
  const { url } = useRenderContext();
  return (
    <Doc>
      <output id="url" data-pathname={url.pathname} data-search={url.search} data-host={url.host} />
    </Doc>
  );
}

function Redirect(props: { to: string }): React.ReactNode {
  useRenderContext().redirect(props.to);
  return <Doc>page</Doc>;
}

/** The values of `<output id="url">`, read back from the attributes React escaped. */
function shown(body: string): { pathname: string; search: string; host: string } {
  const attr = (name: string) =>
    (new RegExp(`data-${name}="([^"]*)"`).exec(body)?.[1] ?? '')
      .replaceAll('&amp;', '&')
      .replaceAll('&quot;', '"');
  return { pathname: attr('pathname'), search: attr('search'), host: attr('host') };
}

let server: Listening;
/** Per request: the path and query the server routed (Node's `req.url`, an absolute-form target's path). */
const routed: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  server = await listen(async (req, res) => {
    const target = req.url ?? '/';
    const parsed = new URL(target, 'http://routing.invalid');
    routed.push(target.startsWith('/') ? target : parsed.pathname + parsed.search);
    const redirectTo = parsed.pathname === '/go' ? parsed.searchParams.get('to') : null;
    const result = await renderToHtml(
      redirectTo === null ? <ShowUrl /> : <Redirect to={redirectTo} />,
      {
        request: req,
        mode: 'buffer',
        onError: (error, info) =>
          problems.push(
            `${(error as { code?: string }).code ?? String(error)}${info.level === 'warning' ? ' (warning)' : ''}`,
          ),
      },
    );
    result.pipe(res);
  });
});

afterAll(() => server.close());

describe('ctx.url over a real node:http server', () => {
  test('a hostile Host cannot change the path: ctx.url has the path the server routed', async () => {
    for (const host of [
      'shop.test/admin#',
      'shop.test/admin?',
      'attacker@shop.test',
      'shop.test?x=',
    ]) {
      routed.length = 0;
      problems.length = 0;
      const response = await get(server.url, '/products/x?y=1', host);
      expect(response.status, host).toBe(200);
      expect(routed).toEqual(['/products/x?y=1']);
      expect(shown(response.body), host).toEqual({
        pathname: '/products/x',
        search: '?y=1',
        host: 'localhost',
      });
      expect(problems, host).toEqual(['KILN_INVALID_HOST (warning)']);
    }
  });

  test('an absolute-form target keeps its path and query', async () => {
    routed.length = 0;
    const response = await get(server.url, 'http://shop.test/products/evil?q=1', 'shop.test');
    expect(routed).toEqual(['/products/evil?q=1']);
    expect(shown(response.body)).toEqual({
      pathname: '/products/evil',
      search: '?q=1',
      host: 'shop.test',
    });
  });

  test('a valid Host is kept, lower-cased', async () => {
    const response = await get(server.url, '/a', 'Shop.Test:8080');
    expect(shown(response.body)).toEqual({ pathname: '/a', search: '', host: 'shop.test:8080' });
  });
});

describe('redirects over a real node:http server', () => {
  test('a non-ASCII target is percent-encoded by the URL standard and redirects', async () => {
    const response = await get(
      server.url,
      `/go?to=${encodeURIComponent('/日本?q=ü#top')}`,
      'shop.test',
    );
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/%E6%97%A5%E6%9C%AC?q=%C3%BC#top');
    expect(response.body).toContain('href="/%E6%97%A5%E6%9C%AC?q=%C3%BC#top"');
  });

  test('a target with CR/LF is refused: no redirect, the page renders with its status, the error is reported', async () => {
    problems.length = 0;
    const response = await get(
      server.url,
      `/go?to=${encodeURIComponent('/a\r\nset-cookie: x=1')}`,
      'shop.test',
    );
    expect(response.status).toBe(200);
    expect(response.headers.location).toBeUndefined();
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.body).toContain('page');
    expect(problems).toEqual(['KILN_INVALID_REDIRECT']);
  });

  test('a redirect to a non-http(s) scheme has no link in its body', async () => {
    const response = await get(
      server.url,
      `/go?to=${encodeURIComponent('javascript:alert(1)')}`,
      'shop.test',
    );
    expect(response.status).toBe(302);
    expect(response.body).not.toContain('href=');
    expect(response.body).not.toContain('<a ');
  });

  test('a scheme-relative or backslash target stays absolute, never turned into a local path', async () => {
    const response = await get(
      server.url,
      `/go?to=${encodeURIComponent('/\\evil.test/x')}`,
      'shop.test',
    );
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('http://evil.test/x');
  });
});
