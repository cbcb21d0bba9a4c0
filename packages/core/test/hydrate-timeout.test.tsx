/**
 * hydrate's default onRecoverableError after a server timeout: the boundaries the server cut on
 * purpose (React error #419 in the browser, "switched to client rendering") are expected and
 * not logged; a boundary that failed on the server for a real error still is. A streamed page
 * from a real server, hydrated in Chromium with React's production build.
 */
import {
  type BrowserSession,
  bundleForBrowser,
  type Listening,
  launchChromium,
  listen,
} from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderToHtml } from '../src/index';
import { TimeoutPage } from './fixtures/timeout-app';

let server: Listening;
let browser: BrowserSession;
const phases: string[] = [];

beforeAll(async () => {
  const clientJs = await bundleForBrowser(
    new URL('./fixtures/timeout-client.tsx', import.meta.url),
    { mode: 'production' },
  );
  server = await listen(async (req, res) => {
    if (req.url === '/client.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(clientJs);
      return;
    }
    const fail = new URL(req.url ?? '/', 'http://x').searchParams.get('fail') === '1';
    const result = await renderToHtml(<TimeoutPage fail={fail} />, {
      request: req,
      mode: 'stream',
      // The slow part never resolves on the server: the timeout always cuts it. The bound only
      // needs to leave the (instant) shell time to be ready on a loaded machine.
      timeoutMs: 2_000,
      bootstrapModules: ['/client.js'],
      onError: (_error, info) => phases.push(info.phase),
    });
    result.pipe(res);
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function load(path: string, ids: string[]): Promise<string[]> {
  const context = await browser.context();
  try {
    const page = await context.newPage();
    const response = await page.goto(server.url + path);
    expect(response?.status()).toBe(200);
    // Hydration has rendered every boundary in the browser: its recoverable errors are reported.
    for (const id of ids) {
      await expect.poll(() => page.locator(`#${id}`).count()).toBe(1);
    }
    return await page.evaluate(() => window.__logged);
  } finally {
    await context.close();
  }
}

describe("hydrate()'s default onRecoverableError after a server timeout", () => {
  test('a boundary the timeout cut is not logged', async () => {
    phases.length = 0;
    expect(await load('/', ['slow'])).toEqual([]);
    expect(phases).toContain('timeout');
  });

  test('a boundary that failed on the server for a real error still is', async () => {
    const logged = await load('/?fail=1', ['slow', 'reviews']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/419/);
  });

  test("an onRecoverableError of the app's own receives them, marked by their digest", async () => {
    expect(await load('/?custom=1', ['slow'])).toEqual(['custom KILN_TIMEOUT']);
  });
});
