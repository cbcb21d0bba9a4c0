import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createShopGraphQL,
  createShopStore,
  type RunningServer,
  type ServerOptions,
} from '@kiln/example-app';
import {
  CHROME_UA,
  describeExampleServer,
  GOOGLEBOT_UA,
  getPage,
  getTimed,
  VIEWPORT,
} from '@kiln/example-app/test-support';
import { parse } from '@kiln/serialize';
import { attr, findAll, type Listening, listen, parseDocument, textOf } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClient } from '../src/build';
import { startServer } from '../src/server';
import { deferredStateKey, ROUTER_STATE_KEY, type RouterState } from '../src/state';

/** One client build of this example for every server of this file. */
let clientDir: Promise<string> | undefined;
const builtClient = () => {
  clientDir ??= mkdtemp(join(tmpdir(), 'kiln-react-router-')).then(async (dir) => {
    await buildClient(dir);
    return dir;
  });
  return clientDir;
};
const start = async (options: ServerOptions) =>
  startServer({ ...options, assetsDir: await builtClient() });

afterAll(async () => {
  if (clientDir) await rm(await clientDir, { recursive: true, force: true });
});

describeExampleServer('react-router', start);

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/**
 * The shop's GraphQL server behind a gate the test controls: a `Picks` operation is answered
 * only once `releasePicks()` is called, so the test, not a clock, decides when the deferred
 * data exists. Every operation's name is recorded.
 */
async function gatedGraphQL(): Promise<Listening & { operations: string[]; releasePicks(): void }> {
  const graphql = createShopGraphQL({ store: createShopStore(), picksLatencyMs: 0 });
  const operations: string[] = [];
  let releasePicks!: () => void;
  const picksReleased = new Promise<void>((resolve) => (releasePicks = resolve));
  const listening = await listen(async (req, res) => {
    const payload = req.method === 'POST' ? await body(req) : undefined;
    const operation = payload
      ? String((JSON.parse(payload.toString('utf8')) as { operationName?: unknown }).operationName)
      : undefined;
    if (operation) operations.push(operation);
    if (operation === 'Picks') await picksReleased;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const response = await graphql.fetch(
      new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers,
        body: payload?.toString('utf8'),
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  return { ...listening, operations, releasePicks };
}

/** The router state a page embedded for the browser, parsed as the browser parses it. */
function routerStateOf(html: string, key = ROUTER_STATE_KEY): unknown {
  const script = findAll(parseDocument(html), 'script').find(
    (element) => attr(element, 'data-kiln-state') === key,
  );
  return script ? parse(textOf(script)) : undefined;
}

describe('react-router example: loaders', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start({ port: 0, host: '127.0.0.1', picksLatencyMs: 0, onError: () => {} });
  });
  afterAll(() => server?.close());

  it('answers a loader redirect() with a real 3xx and no document', async () => {
    const moved = await getPage(`${server.url}/products`);
    expect(moved.status).toBe(301);
    expect(moved.headers.get('location')).toBe('/');
    expect(moved.html).toBe('');

    const signIn = await getPage(`${server.url}/signin?name=Grace`);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/');
    expect(signIn.headers.get('set-cookie')).toMatch(/^kiln_visitor=Grace;/);
    expect(signIn.html).toBe('');
  });

  it("makes a loader's thrown 404 the response status, and hands the error to the browser", async () => {
    const missing = await getPage(`${server.url}/products/unicorn`);
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('data-testid="not-found"');
    const state = routerStateOf(missing.html) as RouterState;
    expect(state.errors).toEqual({
      root: { status: 404, statusText: 'Not Found', internal: false, data: null },
    });
    expect(state.loaderData).toEqual({});

    const found = await getPage(`${server.url}/products/kettle`);
    expect(found.status).toBe(200);
    const loaded = routerStateOf(found.html) as RouterState;
    expect(loaded.errors).toBeNull();
    expect(loaded.deferred).toEqual([{ routeId: 'product', key: 'picks', id: 0 }]);
    expect(loaded.loaderData.product).toMatchObject({
      product: { id: 'kettle', name: 'Stovetop kettle' },
      picks: null,
    });
  });

  it('gives a crawler the deferred value in place, without streaming scripts', async () => {
    const page = await getPage(`${server.url}/products/mugs`, { userAgent: GOOGLEBOT_UA });
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-testid="picks"');
    expect(page.html).not.toContain('data-testid="picks-loading"');
    expect(page.html).not.toContain('<template');
    expect(routerStateOf(page.html, deferredStateKey(0))).toMatchObject({ ok: true });
  });
});

describe('react-router example: deferred data and navigation', () => {
  let gateway: Awaited<ReturnType<typeof gatedGraphQL>>;
  let server: RunningServer;
  beforeAll(async () => {
    gateway = await gatedGraphQL();
    server = await start({
      port: 0,
      host: '127.0.0.1',
      graphqlUrl: `${gateway.url}/graphql`,
      onError: () => {},
    });
  });
  afterAll(async () => {
    await server?.close();
    await gateway?.close();
  });

  it('streams a deferred loader value into its boundary after the shell', async () => {
    let shellWhileHeld = '';
    const { status, chunks } = await getTimed(`${server.url}/products/kettle`, (chunk) => {
      // The picks cannot exist before the gate opens: everything up to here is the shell.
      if (!shellWhileHeld && chunk.text.includes('data-testid="product-name"')) {
        shellWhileHeld = chunk.text;
        gateway.releasePicks();
      }
      return undefined;
    });
    expect(status).toBe(200);
    const page = chunks.map((chunk) => chunk.text).join('');
    const shellEnd = page.indexOf(shellWhileHeld) + shellWhileHeld.length;
    const shell = page.slice(0, shellEnd);
    expect(shell).toContain('data-testid="picks-loading"');
    expect(shell).toContain('Stovetop kettle');
    expect(shell).not.toContain('data-testid="picks"');

    const picksAt = page.indexOf('data-testid="picks"');
    const stateAt = page.indexOf(`data-kiln-state="${deferredStateKey(0)}"`);
    expect(picksAt).toBeGreaterThan(shellEnd);
    // The value reaches the browser's router before the markup that shows it.
    expect(stateAt).toBeGreaterThan(shellEnd);
    expect(stateAt).toBeLessThan(picksAt);
    expect(routerStateOf(page, deferredStateKey(0))).toMatchObject({
      ok: true,
      value: expect.arrayContaining([expect.objectContaining({ id: expect.any(String) })]),
    });
    expect(page.trimEnd()).toMatch(/<\/html>$/);
  });

  it('hydrates without loaders or GraphQL, then navigates in the browser through Apollo', async () => {
    gateway.releasePicks();
    const { launchChromium } = await import('@kiln/test-utils');
    const browser = await launchChromium();
    try {
      const context = await browser.context({ userAgent: CHROME_UA, viewport: VIEWPORT });
      const page = await context.newPage();
      const messages: string[] = [];
      const browserOperations: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') {
          messages.push(`${message.text()} ${message.location().url}`);
        }
      });
      page.on('pageerror', (error) => messages.push(error.message));
      page.on('request', (request) => {
        if (request.url().startsWith(gateway.url) && request.method() === 'POST') {
          browserOperations.push(String(request.postDataJSON()?.operationName));
        }
      });

      await page.goto(`${server.url}/products/kettle`);
      await page.waitForFunction(() => {
        const picks = document.querySelector('[data-testid="picks"]');
        return (
          window.__kilnExample?.hydrated === true &&
          picks !== null &&
          Object.keys(picks).some((key) => key.startsWith('__reactFiber'))
        );
      });
      expect(await page.evaluate(() => window.__kilnExample?.recoverableErrors)).toEqual([]);
      expect(browserOperations).toEqual([]);
      await page.evaluate(() => {
        (window as { sameDocument?: boolean }).sameDocument = true;
      });

      await page.getByTestId('pick-teapot').click();
      await page.waitForURL(`${server.url}/products/teapot`);
      await expect.poll(() => page.getByTestId('product-name').textContent()).toBe('Clay teapot');
      expect(await page.title()).toBe('Clay teapot · Kiln shop');
      expect(browserOperations).toContain('Product');

      await page.getByTestId('back').click();
      await page.waitForURL(`${server.url}/`);
      await page.getByTestId('visits').waitFor();
      expect(browserOperations).toContain('Home');
      expect(await page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument)).toBe(
        true,
      );

      // A loader's 404 hydrates from the error the server handed over, without running the loader.
      browserOperations.length = 0;
      const missing = await page.goto(`${server.url}/products/unicorn`);
      expect(missing?.status()).toBe(404);
      await page.waitForFunction(() => window.__kilnExample?.hydrated === true);
      expect(await page.getByTestId('not-found').textContent()).toBe('Nothing here');
      expect(await page.evaluate(() => window.__kilnExample?.recoverableErrors)).toEqual([]);
      expect(browserOperations).toEqual([]);

      // The only failed loads are the favicon the shop does not have and the 404 page itself.
      messages.splice(
        0,
        messages.length,
        ...messages.filter(
          (m) => !m.includes('404 (Not Found)') || !/favicon\.ico|unicorn/.test(m),
        ),
      );
      expect(messages).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
