import { listen } from '@kiln/test-utils';
import type { ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import { KilnError, type RenderErrorInfo, renderToHtml, useRenderContext } from '../src/index';
import { Await, Boundary, Doc, deferred, recorder, sleep } from './helpers';

function codes(errors: { error: unknown }[]): (string | undefined)[] {
  return errors.map(({ error }) => (error instanceof KilnError ? error.code : undefined));
}

function collector(): {
  errors: { error: unknown; info: RenderErrorInfo }[];
  onError: (error: unknown, info: RenderErrorInfo) => void;
} {
  const errors: { error: unknown; info: RenderErrorInfo }[] = [];
  return { errors, onError: (error, info) => errors.push({ error, info }) };
}

describe('status, headers and redirects before the first byte', () => {
  // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
  function NotFound(): ReactNode {
    const ctx = useRenderContext();
    ctx.setStatus(404);
    ctx.setHeader('cache-control', 'no-store');
    ctx.appendHeader('set-cookie', 'a=1; Path=/');
    ctx.appendHeader('set-cookie', 'b=2; Path=/');
    return <h1>Not found</h1>;
  }

  test('a Node response gets the status and every header, set-cookie values kept apart', async () => {
    const server = await listen(async (req, res) => {
      const result = await renderToHtml(
        <Doc>
          <NotFound />
        </Doc>,
        { request: req },
      );
      result.pipe(res);
    });
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(404);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      expect(await response.text()).toContain('<h1>Not found</h1>');
    } finally {
      await server.close();
    }
  });

  test('toResponse() carries status and headers', async () => {
    const result = await renderToHtml(
      <Doc>
        <NotFound />
      </Doc>,
    );
    const response = result.toResponse({ headers: { 'x-extra': '1' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-extra')).toBe('1');
    expect(response.headers.getSetCookie()).toHaveLength(2);
    expect(await response.text()).toContain('Not found');
  });

  test('a redirect in the shell gives a 3xx with location and a small body, not the page', async () => {
    let disposed = 0;
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Guard(): ReactNode {
      useRenderContext().redirect('/login?next=%2Faccount', 303);
      return <p>secret account page</p>;
    }
    const result = await renderToHtml(
      <Doc>
        <Guard />
        <Boundary name="never">
          <Await promise={new Promise<string>(() => {})}>{(v) => <p>{v}</p>}</Await>
        </Boundary>
      </Doc>,
      {
        mode: 'stream',
        plugins: [{ name: 'p', setup: () => ({ dispose: () => void disposed++ }) }],
      },
    );
    expect(result.status).toBe(303);
    expect(result.redirect).toEqual({ url: '/login?next=%2Faccount', status: 303 });
    expect(result.headers.get('location')).toBe('/login?next=%2Faccount');
    const body = await result.text();
    expect(body).not.toContain('secret');
    expect(body).toContain('href="/login?next=%2Faccount"');
    expect(body.length).toBeLessThan(300);
    await result.finished;
    expect(disposed).toBe(1);
  });

  test('buffer mode: a redirect inside a Suspense boundary is still an HTTP redirect', async () => {
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Late(): ReactNode {
      useRenderContext().redirect('/moved', 301);
      return <p>late content</p>;
    }
    const result = await renderToHtml(
      <Doc>
        <Boundary name="late">
          <Await promise={sleep(10)}>{() => <Late />}</Await>
        </Boundary>
      </Doc>,
      { mode: 'buffer' },
    );
    expect(result.status).toBe(301);
    expect(result.redirect?.url).toBe('/moved');
    const response = result.toResponse();
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/moved');
    expect(await response.text()).not.toContain('late content');
  });

  test('invalid status codes and header values are reported, never thrown', async () => {
    const { errors, onError } = collector();
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Bad(): ReactNode {
      const ctx = useRenderContext();
      ctx.setStatus(42);
      ctx.setHeader('bad header', 'x');
      ctx.setHeader('x-ok', 'fine');
      return <p>ok</p>;
    }
    const result = await renderToHtml(
      <Doc>
        <Bad />
      </Doc>,
      { onError },
    );
    expect(result.status).toBe(200);
    expect(result.headers.get('x-ok')).toBe('fine');
    expect(codes(errors)).toEqual(['KILN_INVALID_STATUS', 'KILN_INVALID_HEADER']);
    await result.text();
  });
});

describe('after the first byte', () => {
  test('status, header and redirect calls are reported with stable codes; redirect falls back to the client', async () => {
    const { errors, onError } = collector();
    const gate = deferred<void>();
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Late(): ReactNode {
      const ctx = useRenderContext();
      expect(ctx.headersSent).toBe(true);
      ctx.setStatus(200); // the status that went out: not a mistake (a resume renders it again)
      ctx.setStatus(404);
      ctx.setHeader('x-late', '1');
      ctx.redirect('/elsewhere?a=1&b=</script>');
      return <p>late</p>;
    }
    const nonce = 'bGF0ZQ';
    const result = await renderToHtml(
      <Doc>
        <Boundary name="late">
          <Await promise={gate.promise}>{() => <Late />}</Await>
        </Boundary>
      </Doc>,
      { mode: 'stream', onError, nonce },
    );
    const rec = recorder();
    result.pipe(rec.stream);
    gate.resolve();
    const html = await rec.finished;
    expect(result.status).toBe(200);
    expect(result.redirect).toBeUndefined();
    expect(result.headers.get('x-late')).toBeNull();
    expect(codes(errors)).toEqual([
      'KILN_STATUS_AFTER_FIRST_BYTE',
      'KILN_HEADER_AFTER_FIRST_BYTE',
      'KILN_REDIRECT_AFTER_FIRST_BYTE',
    ]);
    expect(errors.every((e) => e.info.phase === 'context')).toBe(true);
    expect(html).toContain(
      `<script nonce="${nonce}">location.replace("/elsewhere?a=1\\u0026b=%3C/script%3E")</script>`,
    );
    expect(html).toContain(
      '<meta http-equiv="refresh" content="0;url=/elsewhere?a=1&amp;b=%3C/script%3E">',
    );
    // The client redirect is written before the boundary's markup.
    expect(html.indexOf('location.replace')).toBeLessThan(html.indexOf('<p>late</p>'));
  });

  test('a late redirect to a javascript: URL is reported and writes no client-side redirect', async () => {
    const { errors, onError } = collector();
    const gate = deferred<void>();
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Late(): ReactNode {
      const ctx = useRenderContext();
      ctx.redirect(' JavaScript:alert(1)');
      ctx.redirect('java\tscript:alert(2)');
      ctx.redirect('JavaScript:alert(3)');
      ctx.redirect('https://example.test/ok');
      return <p>late</p>;
    }
    const result = await renderToHtml(
      <Doc>
        <Boundary name="late">
          <Await promise={gate.promise}>{() => <Late />}</Await>
        </Boundary>
      </Doc>,
      { mode: 'stream', onError, nonce: 'bGF0ZQ' },
    );
    const rec = recorder();
    result.pipe(rec.stream);
    gate.resolve();
    const html = await rec.finished;
    // Spaces around and control characters inside a target are refused before anything else.
    expect(codes(errors)).toEqual([
      'KILN_INVALID_REDIRECT',
      'KILN_INVALID_REDIRECT',
      'KILN_REDIRECT_AFTER_FIRST_BYTE',
      'KILN_REDIRECT_AFTER_FIRST_BYTE',
    ]);
    expect(String(errors[2]?.error)).toContain('not an http(s) URL');
    expect(html).not.toMatch(/alert/);
    expect(html.match(/location\.replace/g)).toHaveLength(1);
    expect(html).toContain('location.replace("https://example.test/ok")');
  });
});

function After(props: { before: string | undefined }): ReactNode {
  const ctx = useRenderContext();
  return (
    <p id="greeting">{`before=${props.before} after=${ctx.cookies.user} lang=${ctx.headers.get('accept-language')}`}</p>
  );
}

function Greeting(props: { gate: Promise<void> }): ReactNode {
  const before = useRenderContext().cookies.user;
  return (
    <Boundary name="greeting">
      <Await promise={props.gate}>{() => <After before={before} />}</Await>
    </Boundary>
  );
}

describe('request data', () => {
  test('two concurrent requests with different cookies never see each other’s data', async () => {
    const gates = [deferred<void>(), deferred<void>()];
    const render = (user: string, lang: string, gate: Promise<void>) =>
      renderToHtml(
        <Doc>
          <Greeting gate={gate} />
        </Doc>,
        {
          request: new Request('http://shop.test/', {
            headers: { cookie: `user=${user}; theme=dark`, 'accept-language': lang },
          }),
          mode: 'stream',
        },
      );
    const [a, b] = await Promise.all([
      render('alice', 'en', gates[0]!.promise),
      render('bob', 'fr', gates[1]!.promise),
    ]);
    const texts = [a.text(), b.text()];
    gates[1]!.resolve();
    await sleep(5);
    gates[0]!.resolve();
    const [htmlA, htmlB] = await Promise.all(texts);
    expect(htmlA).toContain('before=alice after=alice lang=en');
    expect(htmlB).toContain('before=bob after=bob lang=fr');
    expect(htmlA).not.toContain('bob');
    expect(htmlB).not.toContain('alice');
  });

  test('a Node request is normalised: URL from host, cookies, a malformed cookie header never throws', async () => {
    const seen: string[] = [];
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Show(): ReactNode {
      const ctx = useRenderContext();
      seen.push(`${ctx.request.method} ${ctx.url.href} ${JSON.stringify(ctx.cookies)}`);
      return <p>ok</p>;
    }
    const server = await listen(async (req, res) => {
      const result = await renderToHtml(
        <Doc>
          <Show />
        </Doc>,
        { request: req },
      );
      result.pipe(res);
    });
    try {
      const response = await fetch(`${server.url}/p//a?x=1`, {
        headers: { cookie: 'good=1; bad=%E0%A4%A; =; ;;; session="quoted"; good2=%20two' },
      });
      expect(response.status).toBe(200);
      await response.text();
      const port = new URL(server.url).port;
      expect(seen).toEqual([
        `GET http://127.0.0.1:${port}/p//a?x=1 {"good":"1","bad":"%E0%A4%A","session":"\\"quoted\\"","good2":" two"}`,
      ]);
    } finally {
      await server.close();
    }
  });

  test('useRenderContext() outside a Kiln render throws a clear error with a code', () => {
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Outside(): ReactNode {
      useRenderContext();
      return null;
    }
    expect(() => renderToString(<Outside />)).toThrow(
      expect.objectContaining({
        code: 'KILN_NO_RENDER_CONTEXT',
        message: expect.stringMatching(/^\[kiln\/core\] /),
      }),
    );
  });
});
