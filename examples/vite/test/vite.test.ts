import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CHROME_UA,
  expectPicksStreamedAfterShell,
  expectSameLook,
  type HttpPicksGate,
  screenshot,
  screenshotWithoutJavaScript,
  startHttpPicksGate,
  VIEWPORT,
} from '@kiln/example-app/test-support';
import { type BrowserSession, launchChromium } from '@kiln/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viteRoot } from '../src/paths';

/**
 * The example runs in its own Node process, as `pnpm dev`, `pnpm build` and `pnpm start` run it
 * (tsx, the `@kiln/source` condition, its own NODE_ENV), never inside the test runner.
 */
const NODE_ARGS = ['--import', 'tsx', '--conditions=@kiln/source'];

/** A started example process: its URL, everything it printed, and a way to stop it. */
interface ExampleProcess {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

function run(script: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...NODE_ARGS, script, ...args], {
    cwd: viteRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function build(outDir: string): Promise<void> {
  const child = run('src/build-cli.ts', [outDir], { NODE_ENV: 'production' });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`the build failed (exit ${code}):\n${output}`);
}

async function startExample(env: Record<string, string>): Promise<ExampleProcess> {
  const child = run('src/main.ts', [], { PORT: '0', HOST: '127.0.0.1', ...env });
  let output = '';
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no server after 60 s:\n${output}`)), 60_000);
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** What a page showed since it was watched: console errors and warnings, page errors, /graphql requests. */
interface Seen {
  messages: string[];
  graphql: string[];
}

function watch(page: Page): Seen {
  const seen: Seen = { messages: [], graphql: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      seen.messages.push(message.text());
    }
  });
  page.on('pageerror', (error) => seen.messages.push(error.message));
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/graphql') seen.graphql.push(request.url());
  });
  return seen;
}

/** Hydrated, with the streamed staff picks in place and hydrated too. */
async function hydrated(page: Page, seen: Seen): Promise<void> {
  try {
    await page.waitForFunction(
      () => {
        const picks = document.querySelector('[data-testid="picks"]');
        return (
          window.__kilnVite?.hydrated === true &&
          picks !== null &&
          Object.keys(picks).some((key) => key.startsWith('__reactFiber'))
        );
      },
      undefined,
      { timeout: 30_000 },
    );
  } catch (error) {
    throw new Error(`the page did not hydrate; it logged:\n${seen.messages.join('\n')}`, {
      cause: error,
    });
  }
}

const STRICT_SCRIPT_SRC = /script-src 'nonce-[A-Za-z0-9+/=]{20,}' 'strict-dynamic'/;

/**
 * Latency of the staff picks in these tests: short, yet long enough that the browser usually
 * hydrates picks streamed after the shell. No assertion depends on it: the streaming tests hold
 * the picks back with a gate until they have seen the shell.
 */
const PICKS_LATENCY_MS = 150;
/** The shell (the catalogue, the picks' fallback) before the slow picks, in one response. */
const expectStreamed = (url: string, gate: HttpPicksGate) =>
  expectPicksStreamedAfterShell(url, {
    end: 'data-testid="picks-loading"',
    contains: 'data-testid="catalogue"',
    gate,
  });

describe('vite example, production build', () => {
  // Inside the example, so the server bundle finds its dependencies in node_modules.
  const outDir = join(viteRoot, 'node_modules', '.kiln-test-build');
  let server: ExampleProcess;
  let browser: BrowserSession;
  let gate: HttpPicksGate;

  beforeAll(async () => {
    gate = await startHttpPicksGate();
    await build(outDir);
    server = await startExample({
      NODE_ENV: 'production',
      DIST_DIR: outDir,
      PICKS_LATENCY_MS: String(PICKS_LATENCY_MS),
      PICKS_GATE_URL: gate.url,
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await gate?.stop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('serves the built page styled under a nonce CSP and hydrates without refetching', async () => {
    const page = await (await browser.context()).newPage();
    const seen = watch(page);
    const response = await page.goto(server.url);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(STRICT_SCRIPT_SRC);
    expect(csp).not.toContain('unsafe-inline');
    await hydrated(page, seen);

    // The template's head got the app's <title> and <meta>, once; the hashed entry is linked.
    expect(await page.title()).toBe('Kiln shop · Vite');
    expect(await page.locator('head title').count()).toBe(1);
    expect(await page.locator('meta[name="description"]').getAttribute('content')).toContain(
      'served by Vite',
    );
    expect(await page.locator('script[src^="/assets/index-"]').count()).toBe(1);
    // Styles and data are there (the catalogue came with the page, from the server's cache).
    expect(await page.locator('h1').evaluate((el) => getComputedStyle(el).color)).toBe(
      'rgb(154, 52, 18)',
    );
    expect(await page.getByTestId('welcome').textContent()).toContain('Fresh from the kiln');
    expect(await page.locator('[data-testid^="product-"]').count()).toBeGreaterThan(2);
    expect(await page.evaluate(() => window.__kilnVite?.recoverableErrors)).toEqual([]);

    const like = page.getByTestId('like-kettle');
    await like.click();
    await expect.poll(() => like.textContent()).toBe('Liked 1');
    // A rule emotion inserted in the browser: the nonce let it in.
    expect(await like.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
      'rgb(4, 120, 87)',
    );
    expect(seen.messages).toEqual([]);
    expect(seen.graphql).toEqual([]);
  });

  it('streams the shell first and the staff picks later, in one response', async () => {
    await expectStreamed(server.url, gate);
  });

  it('shows every part styled without JavaScript, pixel for pixel as after hydration', async () => {
    const before = await screenshotWithoutJavaScript(browser, server.url, async (plain) => {
      expect(await plain.locator('h1').evaluate((el) => getComputedStyle(el).color)).toBe(
        'rgb(154, 52, 18)',
      );
    });
    const live = await browser.context({ userAgent: CHROME_UA, viewport: VIEWPORT });
    const page = await live.newPage();
    const seen = watch(page);
    await page.goto(server.url);
    await hydrated(page, seen);
    await expectSameLook(page, 'examples-vite', before, await screenshot(page));
    await live.close();
    expect(seen.messages).toEqual([]);
  });

  it('serves hashed assets for a year and shows no stack to visitors', async () => {
    const html = await (await fetch(server.url)).text();
    const entry = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    expect(entry).toBeDefined();
    const asset = await fetch(server.url + entry);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');

    const failed = await fetch(`${server.url}/error`);
    expect(failed.status).toBe(500);
    const body = await failed.text();
    expect(body).toContain('Something went wrong');
    expect(body).not.toContain('fails on purpose');
    expect(body).not.toContain('.js:');
  });

  it('answers /favicon.ico and other file paths with a 404, not with the rendered app', async () => {
    for (const path of ['/favicon.ico', '/robots.txt', '/assets/index.js.map']) {
      const response = await fetch(server.url + path);
      const body = await response.text();
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type') ?? '', path).not.toContain('text/html');
      expect(body, path).not.toContain('<html');
    }
  });
});

describe('vite example, development server', () => {
  const component = join(viteRoot, 'src', 'Welcome.tsx');
  let original: string;
  let server: ExampleProcess;
  let browser: BrowserSession;
  let gate: HttpPicksGate;

  beforeAll(async () => {
    original = await readFile(component, 'utf8');
    gate = await startHttpPicksGate();
    server = await startExample({
      NODE_ENV: 'development',
      PICKS_LATENCY_MS: String(PICKS_LATENCY_MS),
      PICKS_GATE_URL: gate.url,
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await gate?.stop();
  });

  it('updates the open page in place (HMR) and renders the edit on the server', async () => {
    const page = await (await browser.context()).newPage();
    const seen = watch(page);
    const response = await page.goto(server.url);
    expect(response?.headers()['content-security-policy']).toMatch(STRICT_SCRIPT_SRC);
    await hydrated(page, seen);
    // React's refresh preamble (an inline script of Vite's index.html) ran under the CSP.
    expect(await page.evaluate(() => '$RefreshReg$' in window)).toBe(true);
    const welcome = page.getByTestId('welcome');
    expect(await welcome.textContent()).toContain('Fresh from the kiln');
    await page.getByTestId('like-kettle').click();
    await expect.poll(() => page.getByTestId('like-kettle').textContent()).toBe('Liked 1');
    await page.evaluate(() => {
      (window as unknown as { hmrMarker: string }).hmrMarker = 'still here';
    });

    const edited = original.replace('Fresh from the kiln', 'Just glazed');
    expect(edited).not.toBe(original);
    try {
      await writeFile(component, edited);
      await expect.poll(() => welcome.textContent(), { timeout: 20_000 }).toContain('Just glazed');
      // No reload: the window and the component state survived the update.
      expect(
        await page.evaluate(() => (window as unknown as { hmrMarker?: string }).hmrMarker),
      ).toBe('still here');
      expect(await page.getByTestId('like-kettle').textContent()).toBe('Liked 1');
      // A fresh request renders the new code on the server.
      await expect
        .poll(async () => (await fetch(server.url)).text(), { timeout: 20_000 })
        .toContain('Just glazed');
    } finally {
      await writeFile(component, original);
    }
    expect(seen.messages).toEqual([]);
    expect(seen.graphql).toEqual([]);
  });

  it('streams the shell first and the staff picks later, in one response', async () => {
    await expectStreamed(server.url, gate);
  });

  it('shows the message and the source-mapped stack of a render error, also in the terminal', async () => {
    const failed = await fetch(`${server.url}/error`);
    expect(failed.status).toBe(500);
    const body = await failed.text();
    expect(body).toContain('This page fails on purpose');
    const frame = /at Broken \([^)]*src\/App\.tsx:(\d+):\d+\)/;
    expect(body).toMatch(frame);
    // The line is the one of the `throw` in the source, not of Vite's transformed module.
    const line = Number(frame.exec(body)?.[1]);
    const source = (await readFile(join(viteRoot, 'src', 'App.tsx'), 'utf8')).split('\n');
    expect(source[line - 1]).toContain("throw new Error('This page fails on purpose')");
    await expect.poll(() => server.output()).toMatch(frame);
  });
});
