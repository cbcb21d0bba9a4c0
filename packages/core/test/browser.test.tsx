import {
  type BrowserSession,
  bundleForBrowser,
  type Listening,
  launchChromium,
  listen,
} from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type KilnPlugin,
  prerenderShell,
  renderToHtml,
  resumeShell,
  type Shell,
} from '../src/index';
import { Content, DocumentApp, Flavour, type Load, type PageData } from './fixtures/app';
import { sleep } from './helpers';

const NONCE = 'cHJvYmU9MQ';
const TEMPLATE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Template default title</title>
    <!--app-head-->
  </head>
  <body>
    <div id="root"><!--app-html--></div>
  </body>
</html>`;

const page: PageData = {
  greeting: 'Hello from the server',
  when: new Date('2024-05-06T07:08:09Z'),
  tags: new Set(['a', 'b']),
};
const delays: Record<string, number> = { one: 40, two: 120, three: 80, four: 60, five: 160 };

function serverLoad(): Load {
  const cache = new Map<string, Promise<string>>();
  return (id) => {
    let promise = cache.get(id);
    if (!promise) {
      promise = sleep(delays[id] ?? 10).then(() => `value of ${id} <script>alert(1)</script>`);
      cache.set(id, promise);
    }
    return promise;
  };
}

const flavour: KilnPlugin = {
  name: 'flavour',
  setup: () => ({
    wrap: (app) => <Flavour.Provider value="vanilla">{app}</Flavour.Provider>,
  }),
};

let server: Listening;
/** The shell of `/partial-template`, pre-rendered on its first request. */
let shell: Promise<Shell> | undefined;
let browser: BrowserSession;
let clientJs = '';

beforeAll(async () => {
  clientJs = await bundleForBrowser(new URL('./fixtures/client-entry.tsx', import.meta.url), {
    mode: 'development',
  });
  server = await listen(async (req, res) => {
    if (req.url === '/client.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(clientJs);
      return;
    }
    const partial = req.url?.startsWith('/partial-template');
    const template = partial || req.url?.startsWith('/template');
    res.setHeader(
      'content-security-policy',
      `script-src 'nonce-${NONCE}'; style-src 'nonce-${NONCE}'`,
    );
    const app = template ? (
      <Content load={serverLoad()} page={page} />
    ) : (
      <DocumentApp load={serverLoad()} page={page} />
    );
    const shared = {
      bootstrapModules: ['/client.js'],
      plugins: [flavour],
      ...(template ? { template: TEMPLATE } : {}),
    };
    // A shell pre-rendered once (the slow items, still loading when its static work is done,
    // are its holes), resumed for each request.
    shell ??= partial
      ? prerenderShell(app, { url: `${server.url}/partial-template`, ...shared })
      : undefined;
    const options = { request: req, mode: 'stream', nonce: NONCE, ...shared } as const;
    const result = partial
      ? await resumeShell(await (shell as Promise<Shell>), app, options)
      : await renderToHtml(app, options);
    result.pipe(res);
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('hydration in Chromium', () => {
  for (const path of ['/', '/template', '/partial-template']) {
    test(`a streamed page (${path === '/' ? 'document' : path.slice(1)}) hydrates without errors`, {
      timeout: 60_000,
    }, async () => {
      const context = await browser.context();
      const tab = await context.newPage();
      const consoleErrors: string[] = [];
      tab.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning')
          consoleErrors.push(message.text());
      });
      tab.on('pageerror', (error) => consoleErrors.push(String(error)));
      await tab.goto(server.url + path, { waitUntil: 'load' });
      await tab.waitForFunction(() => window.__hydrated === true);
      if (path === '/partial-template') {
        // served from a shell whose slow items are holes, rendered by the resume
        const served = await shell;
        expect(served?.kind).toBe('partial');
        expect(served?.holes.length).toBeGreaterThan(0);
      }
      // every boundary hydrated and the counter's click handler attached (their effects ran)
      await tab.waitForFunction(
        () =>
          document.querySelectorAll('li[data-item][data-hydrated]').length === 5 &&
          document.querySelector('#counter[data-hydrated]') !== null,
      );

      await tab.click('#counter');
      await tab.click('#counter');
      expect(await tab.textContent('#counter')).toBe('clicked 2');

      const state = await tab.evaluate(() => {
        const p = window.__page;
        return p
          ? { greeting: p.greeting, when: p.when.toISOString(), tags: [...p.tags] }
          : undefined;
      });
      expect(state).toEqual({
        greeting: page.greeting,
        when: page.when.toISOString(),
        tags: ['a', 'b'],
      });
      expect(await tab.textContent('[data-item="two"]')).toBe(
        'value of two <script>alert(1)</script>',
      );

      const head = await tab.evaluate(() => ({
        titles: [...document.querySelectorAll('title')].map((t) => t.parentElement?.tagName),
        descriptions: document.querySelectorAll('meta[name="description"]').length,
        descriptionInHead: document.head.querySelector('meta[name="description"]') !== null,
        canonical: document.head.querySelectorAll('link[rel="canonical"]').length,
      }));
      expect(head.titles).toEqual(['HEAD']);
      expect(head.descriptions).toBe(1);
      expect(head.descriptionInHead).toBe(true);
      expect(head.canonical).toBe(1);

      expect(await tab.textContent('#flavour')).toBe('vanilla');
      expect(await tab.evaluate(() => window.__before)).toEqual(['flavour']);
      expect(await tab.evaluate(() => window.__recoverable)).toEqual([]);
      expect(consoleErrors).toEqual([]);
      await context.close();
    });
  }
});
