import { Writable } from 'node:stream';
import { type ReactNode, Suspense, use } from 'react';
import { describe, expect, test } from 'vitest';
import {
  Dynamic,
  type KilnError,
  type KilnPlugin,
  prerenderShell,
  type RenderErrorInfo,
  resumeShell,
  type Shell,
  useRenderContext,
} from '../src/index';
import { Doc } from './helpers';

const URL_ = 'http://shop.test/products?page=1';

/** A visitor's request: their cookie, a browser user agent. */
function visitor(name: string | undefined): Request {
  const headers = new Headers({ 'user-agent': 'Mozilla/5.0 Chrome/120' });
  if (name !== undefined) headers.set('cookie', `name=${name}`);
  return new Request(URL_, { headers });
}

function Greeting(): ReactNode {
  const name = useRenderContext().cookies.name;
  return <p id="greeting">{name ? `Hello ${name}` : 'Hello guest'}</p>;
}

function Shop(props: { children?: ReactNode }): ReactNode {
  const ctx = useRenderContext();
  return (
    <Doc title="Shop">
      <h1>Products at {ctx.url.pathname}</h1>
      <Suspense fallback={<p id="greeting-fallback">Welcome</p>}>
        <Greeting />
      </Suspense>
      {props.children}
    </Doc>
  );
}

function collect(): {
  errors: [unknown, RenderErrorInfo][];
  onError: (e: unknown, i: RenderErrorInfo) => void;
} {
  const errors: [unknown, RenderErrorInfo][] = [];
  return { errors, onError: (error, info) => errors.push([error, info]) };
}

/** The start tags of every script and style in `html`. */
function scriptAndStyleTags(html: string): string[] {
  return html.match(/<(script|style)\b[^>]*>/g) ?? [];
}

function Cart(): ReactNode {
  return (
    <Suspense fallback={<span id="cart">Cart</span>}>
      <Dynamic name="cart">
        <span id="cart">Cart (3)</span>
      </Dynamic>
    </Suspense>
  );
}

function PlainPage(props: { renders: { count: number } }): ReactNode {
  props.renders.count++;
  return (
    <Doc>
      <p>Same for all</p>
    </Doc>
  );
}

function Header(): ReactNode {
  const lang = useRenderContext().headers.get('accept-language');
  return <header>{lang}</header>;
}

interface SlowSource {
  pending: Promise<void> | undefined;
  inFlight: boolean;
  data: string | undefined;
  load(): Promise<void>;
}

/** Static data that arrives after 50 macrotasks: an abort after a fixed number of turns would cut it. */
function slowSource(): SlowSource {
  const source: SlowSource = {
    pending: undefined,
    inFlight: false,
    data: undefined,
    load() {
      source.pending ??= (async () => {
        for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
        source.data = 'static reviews';
      })().finally(() => {
        source.inFlight = false;
      });
      source.inFlight = source.data === undefined;
      return source.pending;
    },
  };
  return source;
}

function Reviews(props: { source: SlowSource }): ReactNode {
  if (props.source.data === undefined) use(props.source.load());
  return <p id="reviews">{props.source.data}</p>;
}

function Broken(): ReactNode {
  const name = useRenderContext().cookies.name;
  throw new Error(`no cart for ${name}`);
}

function State(): ReactNode {
  const ctx = useRenderContext();
  ctx.setState('shell', { at: 'shell' });
  ctx.setHeader('x-shop', 'yes');
  ctx.setHeader('content-security-policy', `script-src 'nonce-${ctx.nonce}'`);
  return null;
}

function Personal(): ReactNode {
  const ctx = useRenderContext();
  ctx.setState('hole', { name: ctx.cookies.name });
  return <p>personal</p>;
}

function SetsCookie(): ReactNode {
  useRenderContext().appendHeader('set-cookie', 'sid=shared');
  return null;
}

function Slow(): ReactNode {
  use(new Promise(() => {}));
  return null;
}

/** Reads the shared `accept-language` outside any boundary, and the rest in boundaries. */
function LocalShop(): ReactNode {
  const ctx = useRenderContext();
  const language = ctx.headers.get('Accept-Language') ?? 'en';
  return (
    <Doc title="Shop">
      <h1 id="title">{language.startsWith('fr') ? 'Boutique' : 'Shop'}</h1>
      <Suspense fallback={<p id="agent-fallback">…</p>}>
        <Agent />
      </Suspense>
      <Suspense fallback={<p id="listed-fallback">…</p>}>
        <Listed />
      </Suspense>
      <Suspense fallback={<p id="greeting-fallback">Welcome</p>}>
        <Greeting />
      </Suspense>
    </Doc>
  );
}

function Agent(): ReactNode {
  return <p id="agent">{useRenderContext().headers.get('user-agent')}</p>;
}

function Listed(): ReactNode {
  return <p id="listed">{[...useRenderContext().request.headers.keys()].join(',')}</p>;
}

describe('prerenderShell with shared headers', () => {
  test('the shell reads the shared headers; any other header, listing them, and cookies are holes', async () => {
    const shell = await prerenderShell(<LocalShop />, {
      url: URL_,
      headers: { 'accept-language': 'fr-FR' },
      onError: () => {},
    });
    expect(shell.kind).toBe('partial');
    expect([...shell.holes].sort()).toEqual(['Agent', 'Greeting', 'Listed']);
    const prelude = shell.prelude.join('');
    expect(prelude).toContain('<h1 id="title">Boutique</h1>');
    expect(prelude).not.toContain('Mozilla');
    const request = new Request(URL_, {
      headers: {
        'accept-language': 'fr-FR',
        'user-agent': 'Mozilla/5.0 Chrome/120',
        cookie: 'name=Ada',
      },
    });
    const html = await (await resumeShell(shell, <LocalShop />, { request })).text();
    expect(html).toContain('<h1 id="title">Boutique</h1>');
    expect(html).toContain('Mozilla/5.0 Chrome/120');
    expect(html).toContain('Hello Ada');
    expect(html).toContain('accept-language,cookie,user-agent');
  });

  test('without shared headers, reading any header outside a boundary makes the page dynamic', async () => {
    const warnings: unknown[] = [];
    const shell = await prerenderShell(<LocalShop />, {
      url: URL_,
      onError: (error) => warnings.push(error),
    });
    expect(shell.kind).toBe('dynamic');
    expect((warnings[0] as KilnError).code).toBe('KILN_DYNAMIC_SHELL');
  });

  test('credentials are never shared headers', async () => {
    for (const name of ['cookie', 'Authorization', 'proxy-authorization']) {
      await expect(
        prerenderShell(<LocalShop />, { url: URL_, headers: { [name]: 'x' } }),
      ).rejects.toMatchObject({ code: 'KILN_INVALID_SHELL_HEADERS' });
    }
  });
});

describe('prerenderShell + resumeShell', () => {
  test('a boundary that reads a cookie is a hole: the shell holds no visitor, each resume its own', async () => {
    const pre = collect();
    const shell = await prerenderShell(<Shop />, {
      url: URL_,
      onError: pre.onError,
      bootstrapModules: ['/client.js'],
    });
    expect(pre.errors).toEqual([]);
    expect(shell.kind).toBe('partial');
    expect(shell.holes).toEqual(['Greeting']);
    const prelude = shell.prelude.join('');
    expect(prelude).toContain('<h1>Products at <!-- -->/products</h1>');
    expect(prelude).toContain('id="greeting-fallback"');
    expect(prelude).not.toContain('Hello');
    expect(prelude).not.toContain('</body>');

    const stored = JSON.parse(JSON.stringify(shell)) as Shell;
    const [ada, guest] = await Promise.all([
      resumeShell(stored, <Shop />, { request: visitor('Ada'), nonce: 'nonceAda1234567890ab' }),
      resumeShell(stored, <Shop />, { request: visitor(undefined), nonce: 'nonceGuest123456789' }),
    ]);
    expect(ada.status).toBe(200);
    expect(ada.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const [adaHtml, guestHtml] = await Promise.all([ada.text(), guest.text()]);
    expect(adaHtml.startsWith(`<!DOCTYPE html>`)).toBe(true);
    expect(adaHtml).toContain('Hello Ada');
    expect(adaHtml).not.toContain('Hello guest');
    expect(guestHtml).toContain('Hello guest');
    expect(guestHtml).not.toContain('Ada');
    // the prelude first (without its end), then the hole's segment, then the end, once
    expect(adaHtml.indexOf('id="greeting-fallback"')).toBeLessThan(adaHtml.indexOf('Hello Ada'));
    expect(adaHtml.endsWith('</body></html>')).toBe(true);
    expect(adaHtml.split('</body>').length).toBe(2);
    // a fresh nonce on every script and style of both halves, none of the pre-render's
    for (const tag of scriptAndStyleTags(adaHtml))
      expect(tag).toContain('nonce="nonceAda1234567890ab"');
    expect(scriptAndStyleTags(adaHtml).length).toBeGreaterThan(1);
    expect(adaHtml.match(/nonce="/g)?.length).toBe(adaHtml.match(/nonce="nonceAda/g)?.length);
    // the module preload too: a strict script-src blocks it without the nonce
    expect(adaHtml).toMatch(
      /<link nonce="nonceAda1234567890ab" rel="modulepreload"[^>]*href="\/client.js"/,
    );
    expect(adaHtml).toMatch(/<script nonce="nonceAda1234567890ab" type="module" src="\/client.js"/);
  });

  test('<Dynamic> makes its boundary a hole; the page without a nonce has none', async () => {
    const shell = await prerenderShell(
      <Doc>
        <Cart />
      </Doc>,
      { url: URL_ },
    );
    expect(shell.kind).toBe('partial');
    expect(shell.prelude.join('')).not.toContain('Cart (3)');
    const result = await resumeShell(
      shell,
      <Doc>
        <Cart />
      </Doc>,
      { request: visitor(undefined) },
    );
    const html = await result.text();
    expect(html).toContain('Cart (3)');
    expect(html).not.toContain('nonce=');
  });

  test('a page that reads no request input is static: the stored document, no React render', async () => {
    const renders = { count: 0 };
    const shell = await prerenderShell(<PlainPage renders={renders} />, { url: URL_ });
    expect(shell.kind).toBe('static');
    expect(shell.postponed).toBeNull();
    const html = await (
      await resumeShell(shell, <PlainPage renders={renders} />, {
        request: visitor('Ada'),
        nonce: 'n0nce000000000000000',
      })
    ).text();
    expect(renders.count).toBe(1);
    expect(html).toContain('<p>Same for all</p>');
    expect(html.endsWith('</p></body></html>') || html.endsWith('</script></body></html>')).toBe(
      true,
    );
  });

  test('request input read outside any boundary: the page is dynamic, the diagnostic names the component, resume renders in full', async () => {
    const page = (
      <Doc>
        <Header />
      </Doc>
    );
    const pre = collect();
    const shell = await prerenderShell(page, { url: URL_, onError: pre.onError });
    expect(shell.kind).toBe('dynamic');
    expect(shell.reason).toContain('Header read request input (headers) outside any <Suspense>');
    expect(pre.errors.map(([error, info]) => [(error as KilnError).code, info.level])).toEqual([
      ['KILN_DYNAMIC_SHELL', 'warning'],
    ]);
    const request = new Request(URL_, { headers: { 'accept-language': 'fr-CH' } });
    const html = await (await resumeShell(shell, page, { request })).text();
    expect(html).toContain('<header>fr-CH</header>');
  });

  test('the pre-render waits for static work a plugin tracks, however many turns it takes, and never for the holes', async () => {
    const source = slowSource();
    const tracker: KilnPlugin = {
      name: 'tracker',
      setup: () => ({ idle: () => (source.inFlight ? source.pending : undefined) }),
    };
    const page = (
      <Shop>
        <Suspense fallback={<p>loading reviews</p>}>
          <Reviews source={source} />
        </Suspense>
      </Shop>
    );
    const shell = await prerenderShell(page, { url: URL_, plugins: [tracker] });
    expect(shell.holes).toEqual(['Greeting']);
    expect(shell.prelude.join('')).toContain('static reviews');
  });

  test('a hole that throws on resume is a boundary error: reported, left to the client', async () => {
    const page = (
      <Doc>
        <h1>Shop</h1>
        <Suspense fallback={<p>cart</p>}>
          <Broken />
        </Suspense>
      </Doc>
    );
    const shell = await prerenderShell(page, { url: URL_ });
    const { errors, onError } = collect();
    const result = await resumeShell(shell, page, { request: visitor('Ada'), onError });
    const html = await result.text();
    expect(result.status).toBe(200);
    expect(html).toContain('<h1>Shop</h1>');
    expect(html).toContain('$RX');
    expect(errors.map(([error, info]) => [(error as Error).message, info.phase])).toEqual([
      ['no cart for Ada', 'boundary'],
    ]);
  });

  test('setState works in both halves; status and headers set in the shell are kept', async () => {
    const page = (
      <Doc>
        <State />
        <Suspense fallback={<p>wait</p>}>
          <Personal />
        </Suspense>
      </Doc>
    );
    const shell = await prerenderShell(page, { url: URL_ });
    const result = await resumeShell(shell, page, {
      request: visitor('Ada'),
      nonce: 'fresh0nce1234567890',
    });
    expect(result.headers.get('x-shop')).toBe('yes');
    expect(result.headers.get('content-security-policy')).toBe(
      "script-src 'nonce-fresh0nce1234567890'",
    );
    const html = await result.text();
    expect(html).toContain('data-kiln-state="shell">{"at":"shell"}</script>');
    expect(html).toContain('"name":"Ada"');
    // the hole's state goes out with the hole, after the prelude
    expect(html.indexOf('"name":"Ada"')).toBeGreaterThan(html.indexOf('<p>wait</p>'));
    expect(html.indexOf('"name":"Ada"')).toBeLessThan(html.indexOf('id="S:0"'));
  });

  test('a pre-render aborted before its static work was done is not a shell', async () => {
    const controller = new AbortController();
    const tracker: KilnPlugin = {
      name: 'never-idle',
      setup: () => ({
        idle: () => {
          controller.abort(new Error('the visitor left'));
          return new Promise<void>(() => {});
        },
      }),
    };
    const page = (
      <Doc>
        <Suspense fallback={<p>x</p>}>
          <Slow />
        </Suspense>
      </Doc>
    );
    await expect(
      prerenderShell(page, {
        url: URL_,
        plugins: [tracker],
        signal: controller.signal,
        onError: () => {},
      }),
    ).rejects.toMatchObject({ code: 'KILN_PRERENDER_FAILED' });
  });

  test('a crawler gets the whole page rendered for it, not a resume that needs JavaScript', async () => {
    const shell = await prerenderShell(<Shop />, { url: URL_ });
    const request = new Request(URL_, {
      headers: {
        'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)',
        cookie: 'name=Bot',
      },
    });
    const html = await (await resumeShell(shell, <Shop />, { request })).text();
    expect(html).toContain('Hello Bot');
    expect(html).not.toContain('greeting-fallback');
    expect(html).not.toContain('$RC');
  });

  test('a shell that would set a cookie for every visitor is refused', async () => {
    await expect(
      prerenderShell(
        <Doc>
          <SetsCookie />
        </Doc>,
        { url: URL_ },
      ),
    ).rejects.toMatchObject({ code: 'KILN_PRERENDER_FAILED', message: /sets a cookie/ });
  });

  test('a value that is not a shell is refused with a stable code', () => {
    expect(() =>
      resumeShell({ format: 'kiln-shell', version: 2 } as unknown as Shell, <Doc>x</Doc>),
    ).toThrow(expect.objectContaining({ code: 'KILN_INVALID_SHELL' }));
  });
});

/** A writable with a `flush()` (as a compression middleware has) that logs what happens to it. */
function loggingWritable(log: string[]): { stream: Writable; text(): string; done: Promise<void> } {
  const chunks: Buffer[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        log.push('write');
        chunks.push(chunk);
        callback();
      },
      final(callback) {
        resolve();
        callback();
      },
    }),
    { flush: () => log.push('flush') },
  );
  return { stream, text: () => Buffer.concat(chunks).toString('utf8'), done };
}

describe('resumeShell: the stored prelude is the first byte', () => {
  const page = (
    <Doc>
      <h1>Shop</h1>
      <Suspense fallback={<p id="wait">wait</p>}>
        <Personal />
      </Suspense>
    </Doc>
  );
  const nonce = 'fresh0nce1234567890';

  test('the prelude is written and flushed before the shell is restored and React resumes; the hole follows it, in order', async () => {
    const log: string[] = [];
    const sink = loggingWritable(log);
    let writtenAtRestore: string | undefined;
    let resuming = false;
    const probe: KilnPlugin = {
      name: 'probe',
      setup: async (ctx) => {
        if (resuming) log.push('setup');
        // a header of this response: plugins set up before the first byte
        ctx.setHeader('x-visitor', ctx.cookies.name ?? 'guest');
        await Promise.resolve();
        return {
          snapshot: () => 'shell',
          restore: () => {
            log.push('restore');
            writtenAtRestore = sink.text();
          },
        };
      },
    };
    const shell = await prerenderShell(page, { url: URL_, plugins: [probe] });
    const prelude = shell.prelude.join(` nonce="${nonce}"`);
    resuming = true;
    const { errors, onError } = collect();
    const result = await resumeShell(shell, page, {
      request: visitor('Ada'),
      nonce,
      plugins: [probe],
      onError,
    });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-visitor')).toBe('Ada');
    expect(log).toEqual(['setup']);
    result.pipe(sink.stream);
    await sink.done;
    // the whole prelude went out, and was flushed, before the shell's state was restored
    expect(writtenAtRestore).toBe(prelude);
    expect(log.slice(0, 2)).toEqual(['setup', 'write']);
    expect(log.indexOf('flush')).toBeLessThan(log.indexOf('restore'));
    // then the hole: its state before its segment, the end of the document once, last
    const html = sink.text();
    expect(html.startsWith(prelude)).toBe(true);
    const state = html.indexOf('"name":"Ada"');
    expect(state).toBeGreaterThan(prelude.length);
    expect(state).toBeLessThan(html.indexOf('id="S:0"'));
    expect(html.endsWith('</body></html>')).toBe(true);
    expect(html.split('</body>').length).toBe(2);
    expect(errors).toEqual([]);
  });

  /** Pre-renders `page` with a plugin that fails on resume only, then resumes it for Ada. */
  async function resumeFailing(fail: 'setup' | 'restore') {
    let resuming = false;
    const failIfResuming = () => {
      if (resuming) throw new Error(`the data source is down (${fail})`);
    };
    const fragile: KilnPlugin = {
      name: 'fragile',
      setup: () => {
        if (fail === 'setup') failIfResuming();
        return { restore: () => (fail === 'restore' ? failIfResuming() : undefined) };
      },
    };
    const shell = await prerenderShell(page, { url: URL_, plugins: [fragile] });
    resuming = true;
    const { errors, onError } = collect();
    const result = await resumeShell(shell, page, {
      request: visitor('Ada'),
      nonce,
      plugins: [fragile],
      onError,
    });
    const html = await result.text();
    await result.finished;
    const reported = errors.map(([error, info]) => [
      (error as KilnError).code,
      info.phase,
      info.plugin,
    ]);
    return { shell, result, html, reported };
  }

  test('a plugin that fails to set up, before the first byte: the 500 error document', async () => {
    const { result, html, reported } = await resumeFailing('setup');
    expect(result.status).toBe(500);
    expect(html).not.toContain('<h1>Shop</h1>');
    expect(reported).toEqual([['KILN_PLUGIN_ERROR', 'plugin', 'fragile']]);
  });

  test('a result taken after its work started still sends the prelude first, then the hole', async () => {
    const shell = await prerenderShell(page, { url: URL_ });
    const result = await resumeShell(shell, page, { request: visitor('Ada'), nonce });
    // let the deferred work start (and React resume) before a sink takes the result
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    const html = await result.text();
    const prelude = shell.prelude.join(` nonce="${nonce}"`);
    expect(html.startsWith(prelude)).toBe(true);
    expect(html.indexOf('"name":"Ada"')).toBeGreaterThan(prelude.length);
    expect(html.indexOf('"name":"Ada"')).toBeLessThan(html.indexOf('id="S:0"'));
    expect(html.endsWith('</body></html>')).toBe(true);
    expect(html.split('</body>').length).toBe(2);
  });

  test('a plugin that fails to restore the shell after the prelude went out: reported, the document ends after the prelude, the hole is left to the browser', async () => {
    const { shell, result, html, reported } = await resumeFailing('restore');
    expect(result.status).toBe(200);
    expect(html).toBe(`${shell.prelude.join(` nonce="${nonce}"`)}</body></html>`);
    expect(html).toContain('id="wait"');
    expect(html).not.toContain('Ada');
    expect(reported).toEqual([['KILN_PLUGIN_ERROR', 'plugin', 'fragile']]);
  });
});

/** The app of a template: its container's content, a greeting hole. */
function App(): ReactNode {
  return (
    <main>
      <h1>Kitchenware</h1>
      <Suspense fallback={<p id="greeting-fallback">Welcome</p>}>
        <Greeting />
      </Suspense>
    </main>
  );
}

function PlainContent(props: { renders: { count: number } }): ReactNode {
  props.renders.count++;
  return <p>Same for all</p>;
}

describe('prerenderShell + resumeShell in template mode', () => {
  const template = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Shop</title>
    <!--app-head-->
    <script type="module" src="/entry.js"></script>
  </head>
  <body>
    <div id="root"><!--app-html--></div>
    <script>window.templateTail = true;</script>
  </body>
</html>
`;

  test('the shell is the template up to the app plus the app, each resume adds its holes, then the rest of the template', async () => {
    const shell = await prerenderShell(<App />, { url: URL_, template });
    expect(shell.kind).toBe('partial');
    expect(shell.template).toBe(true);
    const prelude = shell.prelude.join('');
    expect(prelude).toContain('<title>Shop</title>');
    expect(prelude).toContain('<div data-kiln-root="" id="root">');
    expect(prelude).toContain('<h1>Kitchenware</h1>');
    expect(prelude).toContain('id="greeting-fallback"');
    expect(prelude).not.toContain('templateTail');
    expect(prelude).not.toContain('Hello');

    const stored = JSON.parse(JSON.stringify(shell)) as Shell;
    const nonceOf = { Ada: 'nonceAda1234567890ab', guest: 'nonceGuest123456789' };
    const [ada, guest] = await Promise.all([
      resumeShell(stored, <App />, { request: visitor('Ada'), nonce: nonceOf.Ada, template }),
      resumeShell(stored, <App />, { request: visitor(undefined), nonce: nonceOf.guest, template }),
    ]);
    const [adaHtml, guestHtml] = await Promise.all([ada.text(), guest.text()]);
    for (const [html, nonce] of [
      [adaHtml, nonceOf.Ada],
      [guestHtml, nonceOf.guest],
    ] as const) {
      const withNonce = shell.prelude.join(` nonce="${nonce}"`);
      expect(html.startsWith(withNonce)).toBe(true);
      // the rest of the template, once, last, with this response's nonce
      expect(html.endsWith('</html>\n')).toBe(true);
      expect(html.split('templateTail').length).toBe(2);
      expect(html.indexOf('templateTail')).toBeGreaterThan(html.indexOf('id="S:0"'));
      for (const tag of scriptAndStyleTags(html)) expect(tag).toContain(`nonce="${nonce}"`);
    }
    expect(adaHtml).toContain('Hello Ada');
    expect(adaHtml.indexOf('Hello Ada')).toBeGreaterThan(adaHtml.indexOf('id="greeting-fallback"'));
    expect(guestHtml).toContain('Hello guest');
    expect(guestHtml).not.toContain('Ada');
  });

  test('a template shell without holes is sent as stored, the rest of the template after it', async () => {
    const renders = { count: 0 };
    const shell = await prerenderShell(<PlainContent renders={renders} />, { url: URL_, template });
    expect(shell.kind).toBe('static');
    const html = await (
      await resumeShell(shell, <PlainContent renders={renders} />, {
        request: visitor('Ada'),
        nonce: 'n0nce000000000000000',
        template,
      })
    ).text();
    expect(renders.count).toBe(1);
    expect(html).toContain('<div data-kiln-root="" id="root"><p>Same for all</p>');
    expect(html.endsWith('</html>\n')).toBe(true);
    expect(html.split('templateTail').length).toBe(2);
  });

  test('a template shell resumed without its template (or a document shell with one) is rendered in full', async () => {
    const shell = await prerenderShell(<App />, { url: URL_, template });
    const renders: string[] = [];
    const html = await (
      await resumeShell(shell, <App />, {
        request: visitor('Ada'),
        onError: (error) => renders.push(String(error)),
      })
    ).text();
    expect(html).toContain('Hello Ada');
    expect(html).not.toContain('greeting-fallback');
  });
});
