import { fileURLToPath } from 'node:url';
import { type BrowserSession, type Listening, launchChromium, listen } from '@kiln/test-utils';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';

// Bundles browser code that imports the server entry, as a bundler does when client code
// imports `@kiln/core` by mistake. Node's built-in modules become empty stubs, as Vite's
// browser build makes them, so the page reaches the entry's own check.
async function bundleServerEntryForBrowser(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `import { renderToHtml } from '@kiln/core'; window.__loaded = typeof renderToHtml;`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@kiln/source'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    plugins: [
      {
        name: 'node-builtins-as-stubs',
        setup(b) {
          b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'stub' }));
          b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
            contents:
              'export default {}; export const AsyncResource = class {}; export const isIPv6 = () => false;',
            loader: 'js',
          }));
        },
      },
    ],
  });
  const text = result.outputFiles[0]?.text;
  if (!text) throw new Error('esbuild produced no output');
  return text;
}

let server: Listening;
let browser: BrowserSession;

beforeAll(async () => {
  const js = await bundleServerEntryForBrowser();
  server = await listen((req, res) => {
    if (req.url === '/entry.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(js);
      return;
    }
    res.setHeader('content-type', 'text/html');
    res.end(
      '<!DOCTYPE html><html><head><script type="module" src="/entry.js"></script></head><body></body></html>',
    );
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('the server entry bundled into browser code throws a KilnError naming the client entry', async () => {
  const context = await browser.context();
  const page = await context.newPage();
  const pageError = new Promise<Error>((resolve) => page.once('pageerror', resolve));
  await page.goto(server.url);
  const error = await pageError;
  expect(error.message).toContain(
    '[kiln/core] @kiln/core is the server entry and was loaded in a browser',
  );
  expect(error.message).toContain('@kiln/core/client');
  expect(await page.evaluate(() => (window as { __loaded?: string }).__loaded)).toBeUndefined();
  await context.close();
});
