import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { type ReactNode, useId } from 'react';
import { describe, expect, test } from 'vitest';
import { type KilnPlugin, renderToHtml, useRenderContext } from '../src/index';
import { Await, Boundary, Doc, deferred, recorder, sleep } from './helpers';

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

function request(userAgent: string, headers: Record<string, string> = {}): Request {
  return new Request('http://shop.test/products?page=2', {
    headers: { 'user-agent': userAgent, ...headers },
  });
}

/** A page whose boundaries are bigger than React's default progressiveChunkSize (12.8 KB). */
function BigPage(props: { delay?: number; gate?: Promise<void> }): ReactNode {
  const data = (props.gate ?? sleep(props.delay ?? 0)).then(() => 'y'.repeat(20_000));
  return (
    <Doc title="Big">
      <h1>shell</h1>
      <Boundary name="big">
        <Await promise={data}>{(v) => <p id="big">{v}</p>}</Await>
      </Boundary>
      <Boundary name="big2">
        <Await promise={data}>{(v) => <p id="big2">{v}</p>}</Await>
      </Boundary>
    </Doc>
  );
}

describe('modes', () => {
  test('auto buffers for a crawler: complete HTML without outlined boundaries or scripts', async () => {
    const result = await renderToHtml(<BigPage delay={20} />, { request: request(GOOGLEBOT) });
    expect(result.diagnostics.mode).toBe('buffer');
    expect(result.diagnostics.allReadyMs).toBeTypeOf('number');
    const html = await result.text();
    expect(html).not.toContain('hidden');
    expect(html).not.toContain('$RC');
    expect(html).not.toContain('<template');
    expect(html).not.toContain('loading');
    const doc = parseDocument(html);
    const paragraphs = findAll(doc, 'p');
    expect(paragraphs.map((p) => attr(p, 'id'))).toEqual(['big', 'big2']);
    expect(textOf(paragraphs[0]!)).toHaveLength(20_000);
    expect(findAll(doc, 'script')).toHaveLength(0);
  });

  test('auto streams for a browser: resolves at the shell, before slow boundaries', async () => {
    const gate = deferred<void>();
    const result = await renderToHtml(<BigPage gate={gate.promise} />, {
      request: request(CHROME),
    });
    expect(result.diagnostics.mode).toBe('stream');
    expect(result.diagnostics.allReadyMs).toBeUndefined();
    const rec = recorder();
    result.pipe(rec.stream);
    await sleep(5);
    expect(rec.text().includes('loading')).toBe(true);
    expect(rec.text().includes('yyyy')).toBe(false);
    gate.resolve();
    const html = await rec.finished;
    expect(html).toContain('$RC');
    expect((await result.finished).allReadyMs).toBeTypeOf('number');
  });

  test('mode overrides the user agent, and isBot overrides detection', async () => {
    const buffered = await renderToHtml(<BigPage delay={5} />, {
      request: request(CHROME),
      mode: 'buffer',
    });
    expect(buffered.diagnostics.mode).toBe('buffer');
    await buffered.text();
    const streamed = await renderToHtml(<BigPage delay={5} />, {
      request: request(GOOGLEBOT),
      mode: 'stream',
    });
    expect(streamed.diagnostics.mode).toBe('stream');
    await streamed.text();
    const seen: string[] = [];
    const custom = await renderToHtml(<BigPage delay={5} />, {
      request: request('my-monitor/1.0'),
      isBot: (ua) => {
        seen.push(ua);
        return ua.startsWith('my-monitor');
      },
    });
    expect(seen).toEqual(['my-monitor/1.0']);
    expect(custom.diagnostics.mode).toBe('buffer');
    await custom.text();
    const forced = await renderToHtml(<BigPage delay={5} />, {
      request: request(GOOGLEBOT),
      isBot: false,
    });
    expect(forced.diagnostics.mode).toBe('stream');
    await forced.text();
  });

  test('the context tells components the mode and whether the visitor is a bot', async () => {
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Show(): ReactNode {
      const ctx = useRenderContext();
      return (
        <p id="info">{`${ctx.mode} ${String(ctx.isBot)} ${ctx.url.pathname}${ctx.url.search}`}</p>
      );
    }
    const html = await (
      await renderToHtml(
        <Doc>
          <Show />
        </Doc>,
        { request: request(GOOGLEBOT) },
      )
    ).text();
    expect(html).toContain('<p id="info">buffer true /products?page=2</p>');
  });
});

describe('the document', () => {
  // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
  function HeadTags(): ReactNode {
    return (
      <section>
        <title>Deep title</title>
        <meta name="description" content="from deep in the tree" />
        <link rel="canonical" href="https://shop.test/products" />
      </section>
    );
  }
  const styles: KilnPlugin = {
    name: 'styles',
    setup: () => ({ head: () => '<style data-test="plugin">body{margin:0}</style>' }),
  };

  for (const mode of ['stream', 'buffer'] as const) {
    test(`${mode}: hoisted head tags and plugin head HTML are in <head> in the first bytes`, async () => {
      const result = await renderToHtml(
        <html lang="en">
          <head />
          <body>
            <main>
              <HeadTags />
            </main>
          </body>
        </html>,
        { mode, plugins: [styles] },
      );
      const rec = recorder();
      result.pipe(rec.stream);
      const first = rec.chunks.join('');
      expect(first).toContain('</head>');
      const head = first.slice(0, first.indexOf('</head>'));
      expect(head).toContain('<title>Deep title</title>');
      expect(head).toContain('<meta name="description" content="from deep in the tree"/>');
      expect(head).toContain('<link rel="canonical" href="https://shop.test/products"/>');
      expect(head).toContain('<style data-test="plugin">body{margin:0}</style>');
      const doc = parseDocument(await rec.finished);
      const headEl = findAll(doc, 'head')[0]!;
      expect(findAll(headEl, 'title')).toHaveLength(1);
      expect(findAll(headEl, 'style')).toHaveLength(1);
      expect(findAll(findAll(doc, 'body')[0]!, 'title')).toHaveLength(0);
    });
  }

  test('a </head> inside an inline head script is not taken for the end of the head', async () => {
    const result = await renderToHtml(
      <html lang="en">
        <head>
          <script dangerouslySetInnerHTML={{ __html: 'var marker = "</head>";' }} />
        </head>
        <body>
          <p>body</p>
        </body>
      </html>,
      { plugins: [styles], mode: 'buffer' },
    );
    const html = await result.text();
    expect(html).toContain('var marker = "</head>";</script><style data-test="plugin">');
    const headEl = findAll(parseDocument(html), 'head')[0]!;
    expect(findAll(headEl, 'style')).toHaveLength(1);
  });

  test('an element that does not render <html> is reported', async () => {
    const errors: unknown[] = [];
    const result = await renderToHtml(<p>fragment</p>, {
      onError: (e) => errors.push(e),
      mode: 'buffer',
    });
    expect(await result.text()).toContain('<p>fragment</p>');
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['KILN_NOT_A_DOCUMENT']);
  });

  test('result sinks: one use only, text() and toResponse() carry status and headers', async () => {
    const result = await renderToHtml(
      <Doc>
        <p>once</p>
      </Doc>,
    );
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await result.text()).toContain('<p>once</p>');
    await expect(result.text()).rejects.toMatchObject({ code: 'KILN_RESULT_CONSUMED' });
    expect(() => result.toResponse()).toThrow(/already sent/);
    const diagnostics = await result.finished;
    expect(diagnostics.bytes).toBeGreaterThan(100);
    expect(diagnostics.batches).toBe(1);
    expect(diagnostics.endMs).toBeGreaterThanOrEqual(diagnostics.shellMs);
  });

  test('pipe() calls flush() of a compression-style writable after each batch', async () => {
    const gate = deferred<string>();
    const result = await renderToHtml(
      <Doc>
        <Boundary name="x">
          <Await promise={gate.promise}>{(v) => <b>{v}</b>}</Await>
        </Boundary>
      </Doc>,
      { mode: 'stream' },
    );
    const rec = recorder();
    let flushes = 0;
    (rec.stream as unknown as { flush(): void }).flush = () => {
      flushes++;
    };
    result.pipe(rec.stream);
    expect(flushes).toBe(1);
    gate.resolve('late');
    await rec.finished;
    expect(flushes).toBe(2);
  });
});

function WithId(): ReactNode {
  const id = useId();
  return <p id="with-id">{id}</p>;
}

describe('React options pass through', () => {
  test('identifierPrefix, bootstrapScriptContent and progressiveChunkSize reach React', async () => {
    const result = await renderToHtml(
      <Doc>
        <WithId />
        <Boundary name="big">
          <Await promise={sleep(5).then(() => 'z'.repeat(3000))}>
            {(v) => <p id="big">{v}</p>}
          </Await>
        </Boundary>
      </Doc>,
      {
        mode: 'buffer',
        identifierPrefix: 'shop-',
        bootstrapScriptContent: 'window.booted = true',
        nonce: 'b3B0aW9ucw',
      },
    );
    const html = await result.text();
    expect(html).toMatch(/<p id="with-id">_shop-R_[a-z0-9]*_<\/p>/);
    expect(html).toContain(
      '<script nonce="b3B0aW9ucw" id="_shop-R_">window.booted = true</script>',
    );
    expect(html).not.toContain('hidden');

    const streamed = await renderToHtml(
      <Doc>
        <Boundary name="big">
          <Await promise={sleep(5).then(() => 'z'.repeat(3000))}>
            {(v) => <p id="big">{v}</p>}
          </Await>
        </Boundary>
      </Doc>,
      { mode: 'stream', progressiveChunkSize: 1000 },
    );
    expect(await streamed.text()).toContain('<div hidden id="S:0">');
  });
});

describe('nonce', () => {
  test('every script and style carries the nonce, once', async () => {
    const nonce = 'bm9uY2UtdGVzdA';
    const gate = deferred<string>();
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Late(): ReactNode {
      const ctx = useRenderContext();
      ctx.setState('late', { at: 1 });
      ctx.inject(
        '<style>.a{}</style><script>window.a=1</script><script nonce="bm9uY2UtdGVzdA">window.b=1</script>',
      );
      return (
        <div>
          <style href="late-style" precedence="high" nonce={nonce}>
            {'.late{color:red}'}
          </style>
          late
        </div>
      );
    }
    const plugin: KilnPlugin = {
      name: 'tags',
      setup: () => ({
        head: () => '<style>.h{}</style>',
        flush: () => '<script>/*flush*/</script>',
        end: () => '<script type="module">/*end*/</script><!-- <script> in a comment -->',
      }),
    };
    const result = await renderToHtml(
      <Doc>
        <style href="shell-style" precedence="default" nonce={nonce}>
          {'.s{color:blue}'}
        </style>
        <Boundary name="late">
          <Await promise={gate.promise}>{() => <Late />}</Await>
        </Boundary>
      </Doc>,
      {
        mode: 'stream',
        nonce,
        plugins: [plugin],
        bootstrapModules: ['/m.js'],
        bootstrapScripts: ['/s.js'],
      },
    );
    const text = result.text();
    setTimeout(() => gate.resolve('go'), 10);
    const html = await text;
    const doc = parseDocument(html);
    const tags = [...findAll(doc, 'script'), ...findAll(doc, 'style')];
    expect(tags.length).toBeGreaterThanOrEqual(10);
    for (const tag of tags) {
      expect(
        tag.attrs?.filter((a) => a.name === 'nonce').map((a) => a.value),
        `${tag.tagName}`,
      ).toEqual([nonce]);
    }
    expect(html).toContain('<!-- <script> in a comment -->');
  });

  test.each(['"><img src=x onerror=alert(1)>', 'a b', '', 'A'.repeat(257)])(
    'refuses the nonce %j with KILN_INVALID_NONCE, and never writes it',
    async (nonce) => {
      const errors: unknown[] = [];
      const result = await renderToHtml(
        <Doc>
          <p>page</p>
        </Doc>,
        { nonce, mode: 'buffer', onError: (error) => errors.push(error) },
      );
      const html = await result.text();
      expect(result.status).toBe(500);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'KILN_INVALID_NONCE' });
      expect(String((errors[0] as Error).message)).toMatch(/^\[kiln\/core\] the nonce option/);
      expect(html).not.toContain('<p>page</p>');
      if (nonce.length > 0) expect(html).not.toContain(nonce);
      expect(html).not.toContain('nonce=');
    },
  );
});
