import type { IncomingMessage, ServerResponse } from 'node:http';
import createCache from '@emotion/cache';
import createEmotion from '@emotion/css/create-instance';
import { renderToHtml } from '@kiln/core';
import {
  type BrowserSession,
  bundleForBrowser,
  type Listening,
  launchChromium,
  listen,
} from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emotion } from '../src/index';
import { App, lateProducts, TEMPLATE, TemplateApp, visitorFor } from './app';
import { duplicates, emotionRulesInPage } from './chromium';
import { emotionCssPage } from './emotion-css-page';
import type { Product } from './page';
import { cases } from './upstream/cases';
import { renderWithKiln } from './upstream/render';
import type { RenderMode } from './upstream/tree';

type BrowserPage = Awaited<ReturnType<Awaited<ReturnType<BrowserSession['context']>>['newPage']>>;

const NONCE = 'ZW1vdGlvbg';
const CSP = `script-src 'nonce-${NONCE}'; style-src 'nonce-${NONCE}'`;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let server: Listening;
let browser: BrowserSession;
let clientJs = '';
let templateClientJs = '';
let emotionCssClientJs = '';
let upstreamClientJs = '';
/** When set, `/client.js` is held until it resolves (the page stays un-hydrated). */
let clientGate: Deferred | undefined;
/** When set, the late boundary's data waits for it. */
let lateGate: Deferred | undefined;

function lateData(): Promise<Product[]> {
  const gate = lateGate;
  return gate ? gate.promise.then(() => lateProducts) : Promise.resolve(lateProducts);
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const scripts: Record<string, string> = {
    '/client.js': clientJs,
    '/client-template.js': templateClientJs,
    '/client-emotion-css.js': emotionCssClientJs,
    '/client-upstream.js': upstreamClientJs,
  };
  const script = scripts[url.pathname];
  if (script !== undefined) {
    await clientGate?.promise;
    res.setHeader('content-type', 'text/javascript');
    res.end(script);
    return;
  }
  if (url.pathname === '/upstream') {
    // A case of emotion's own server tests (upstream/cases.tsx), without a CSP.
    const upstreamCase = cases.find((c) => c.name === url.searchParams.get('case'))!;
    const upstreamMode = url.searchParams.get('mode') as RenderMode;
    const { html } = await renderWithKiln(upstreamCase, upstreamMode, ['/client-upstream.js']);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(html);
    return;
  }
  res.setHeader('content-security-policy', CSP);
  const mode = url.searchParams.get('mode') === 'buffer' ? 'buffer' : 'stream';
  const visitor = visitorFor(url);
  if (url.pathname === '/emotion-css') {
    // An @emotion/css instance per request, its cache given to the plugin.
    const instance = createEmotion({ key: 'css', nonce: NONCE });
    const Page = emotionCssPage(instance);
    const result = await renderToHtml(<Page />, {
      request: req,
      mode,
      nonce: NONCE,
      plugins: [emotion({ cache: () => instance.cache })],
      bootstrapModules: ['/client-emotion-css.js'],
    });
    result.pipe(res);
    return;
  }
  if (url.pathname === '/cache-nonce') {
    // The nonce is set only on the emotion cache, emotion's own way; React's scripts carry none.
    const result = await renderToHtml(<App visitor={visitor} late={lateData()} />, {
      request: req,
      mode: 'buffer',
      plugins: [emotion({ cache: () => createCache({ key: 'css', nonce: NONCE }) })],
    });
    result.pipe(res);
    return;
  }
  const result =
    url.pathname === '/template'
      ? await renderToHtml(<TemplateApp visitor={visitor} late={lateData()} />, {
          request: req,
          mode,
          nonce: NONCE,
          template: TEMPLATE,
          plugins: [emotion({ key: 'shop' })],
          bootstrapModules: ['/client-template.js'],
        })
      : await renderToHtml(<App visitor={visitor} late={lateData()} />, {
          request: req,
          mode,
          nonce: NONCE,
          plugins: [emotion()],
          bootstrapModules: ['/client.js'],
        });
  result.pipe(res);
}

beforeAll(async () => {
  const bundle = (entry: string) => bundleForBrowser(new URL(entry, import.meta.url));
  [clientJs, templateClientJs, emotionCssClientJs, upstreamClientJs] = await Promise.all([
    bundle('./browser/client.tsx'),
    bundle('./browser/client-template.tsx'),
    bundle('./browser/client-emotion-css.tsx'),
    bundle('./upstream/client.tsx'),
  ]);
  server = await listen((req, res) => {
    handle(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Every CSS rule of the emotion style elements, as Chromium parsed them (a multiset, sorted). */
function emotionRules(page: BrowserPage): Promise<string[]> {
  return page.evaluate(emotionRulesInPage);
}

/** The emotion classes used by elements that have no rule in the document. */
function unstyledClasses(page: BrowserPage): Promise<string[]> {
  return page.evaluate(() => {
    const text = Array.from(document.styleSheets)
      .flatMap((sheet) => Array.from(sheet.cssRules).map((rule) => rule.cssText))
      .join('\n');
    const classes = new Set<string>();
    for (const element of Array.from(document.querySelectorAll('[class]'))) {
      for (const name of Array.from(element.classList)) {
        if (/^(css|shop)-/.test(name)) classes.add(name);
      }
    }
    return [...classes].filter((name) => !text.includes(`.${name}`));
  });
}

/** A page that records console errors (React reports hydration problems there) and CSP violations. */
async function open(javaScriptEnabled = true) {
  const context = await browser.context({
    javaScriptEnabled,
    viewport: { width: 800, height: 700 },
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { context, page, problems };
}

/** The emotion rules of a page without JavaScript, then once hydrated, and the hydrated page's console problems. */
async function rulesBeforeAndAfterHydration(url: string) {
  const noJs = await open(false);
  await noJs.page.goto(url);
  const serverRules = await emotionRules(noJs.page);
  await noJs.context.close();
  const js = await open();
  await js.page.goto(url);
  await js.page.waitForSelector('html[data-hydrated]');
  const hydratedRules = await emotionRules(js.page);
  await js.context.close();
  return { serverRules, hydratedRules, problems: js.problems };
}

const shot = (page: BrowserPage) => page.screenshot({ fullPage: true, animations: 'disabled' });

describe('emotion in Chromium', { timeout: 120_000 }, () => {
  for (const visitor of ['alice', 'bob']) {
    it(`${visitor}: the server page without JavaScript looks identical to the hydrated page, with no rule twice`, async () => {
      lateGate = undefined;
      clientGate = undefined;
      const url = `${server.url}/?mode=buffer&visitor=${visitor}`;

      const noJs = await open(false);
      await noJs.page.goto(url);
      const serverShot = await shot(noJs.page);
      const serverRules = await emotionRules(noJs.page);
      await noJs.context.close();

      const js = await open();
      await js.page.goto(url);
      await js.page.waitForSelector('html[data-hydrated][data-late-hydrated]');
      const hydratedShot = await shot(js.page);
      const hydratedRules = await emotionRules(js.page);
      const unstyled = await unstyledClasses(js.page);
      const problems = js.problems;
      await js.context.close();

      expect(problems).toEqual([]);
      expect(serverRules.length).toBeGreaterThan(10);
      expect(hydratedRules).toEqual(serverRules);
      expect(duplicates(hydratedRules.filter((r) => !r.startsWith('@')))).toEqual([]);
      expect(unstyled).toEqual([]);
      expect(Buffer.compare(hydratedShot, serverShot)).toBe(0);
    });
  }

  it('a nonce set only on the emotion cache passes a strict CSP: every server rule applies', async () => {
    lateGate = undefined;
    clientGate = undefined;
    const reference = await open(false);
    await reference.page.goto(`${server.url}/?mode=buffer&visitor=bob`);
    const referenceRules = await emotionRules(reference.page);
    const referenceShot = await shot(reference.page);
    await reference.context.close();

    const { context, page } = await open(false);
    await page.goto(`${server.url}/cache-nonce?visitor=bob`);
    const rules = await emotionRules(page);
    const cacheNonceShot = await shot(page);
    await context.close();

    expect(referenceRules.length).toBeGreaterThan(10);
    expect(rules).toEqual(referenceRules);
    expect(Buffer.compare(cacheNonceShot, referenceShot)).toBe(0);
  });

  for (const mode of ['buffer', 'stream']) {
    it(`${mode}: @emotion/css globals and keyframes are adopted, not inserted again on hydration`, async () => {
      lateGate = undefined;
      clientGate = undefined;
      const { serverRules, hydratedRules, problems } = await rulesBeforeAndAfterHydration(
        `${server.url}/emotion-css?mode=${mode}`,
      );
      expect(problems).toEqual([]);
      expect(serverRules.some((rule) => rule.startsWith('@font-face'))).toBe(true);
      expect(serverRules.some((rule) => rule.startsWith('@keyframes'))).toBe(true);
      expect(hydratedRules).toEqual(serverRules);
      expect(duplicates(hydratedRules)).toEqual([]);
    });
  }

  it('a streamed boundary is styled the moment it appears, before hydration', async () => {
    lateGate = deferred();
    clientGate = deferred();
    const { context, page, problems } = await open();
    await page.addInitScript(() => {
      const record = (late: Element) => {
        const item = late.querySelector('li')!;
        (window as unknown as { lateSeen: unknown }).lateSeen = {
          outline: getComputedStyle(late).outlineStyle,
          outlineColor: getComputedStyle(late).outlineColor,
          itemBackground: getComputedStyle(item).backgroundColor,
          hydrated: document.documentElement.hasAttribute('data-hydrated'),
        };
      };
      new MutationObserver(() => {
        const late = document.getElementById('late');
        if (late && !late.closest('[hidden]') && !('lateSeen' in window)) record(late);
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`${server.url}/?visitor=bob`, { waitUntil: 'commit' });
    await page.waitForSelector('#loading');
    lateGate.resolve();
    await page.waitForFunction(() => 'lateSeen' in window);
    const seen = await page.evaluate(() => (window as unknown as { lateSeen: unknown }).lateSeen);
    expect(seen).toEqual({
      outline: 'solid',
      outlineColor: 'rgb(41, 128, 185)',
      itemBackground: 'rgb(22, 160, 133)',
      hydrated: false,
    });
    await page.waitForSelector('#loading', { state: 'detached' });
    const before = await shot(page);
    const rulesBefore = await emotionRules(page);

    clientGate.resolve();
    await page.waitForSelector('html[data-hydrated][data-late-hydrated]');
    const after = await shot(page);
    const rulesAfter = await emotionRules(page);
    // A rule only the browser inserts gets the nonce too (the CSP would block it otherwise).
    await page.click('#toggle');
    await page.waitForSelector('#toggle:text("on")');
    const color = await page.$eval('#toggle', (button) => getComputedStyle(button).color);
    const nonces = await page.$$eval('style', (styles) =>
      styles.map((style) => (style as HTMLStyleElement).nonce),
    );
    await context.close();

    expect(color).toBe('rgb(200, 10, 10)');
    expect(new Set(nonces)).toEqual(new Set([NONCE]));

    expect(problems).toEqual([]);
    expect(rulesAfter).toEqual(rulesBefore);
    expect(Buffer.compare(after, before)).toBe(0);
  });

  for (const path of ['/', '/template']) {
    it(`${path}: styles streamed after hydration started are adopted: none inserted twice, none missing`, async () => {
      lateGate = deferred();
      clientGate = undefined;

      const reference = await open(false);
      const released = lateGate;
      lateGate = undefined;
      await reference.page.goto(`${server.url}${path}?mode=buffer&visitor=alice`);
      const referenceShot = await shot(reference.page);
      const referenceRules = await emotionRules(reference.page);
      await reference.context.close();
      lateGate = released;

      const { context, page, problems } = await open();
      await page.goto(`${server.url}${path}?visitor=alice`, { waitUntil: 'commit' });
      await page.waitForSelector('html[data-hydrated]');
      expect(await page.locator('#late').count()).toBe(0);
      lateGate.resolve();
      await page.waitForSelector('html[data-late-hydrated]');
      await page.waitForLoadState('load');
      const rules = await emotionRules(page);
      const unstyled = await unstyledClasses(page);
      const bodyStyles = await page.locator('body style[data-emotion]').count();
      const hydratedShot = await shot(page);
      await context.close();

      expect(problems).toEqual([]);
      expect(unstyled).toEqual([]);
      expect(rules).toEqual(referenceRules);
      // The late elements joined the cache's sheet in the head, after the ones adopted before.
      expect(bodyStyles).toBe(0);
      expect(Buffer.compare(hydratedShot, referenceShot)).toBe(0);
    });
  }

  // The hydration half of emotion's server tests (server/test/{index,inline,stream}.test.js and
  // css/test/instance › "hydration › only inserts rules that are not in the critical css"), for
  // a representative set of the ported cases: emotion's own browser code hydrates the page Kiln
  // rendered and inserts no rule again.
  const upstreamChecked: [string, RenderMode][] = [
    ['server: Page1 hydrates', 'buffer'],
    ['server: Page1 hydrates', 'late'],
    ['server: large recursive component', 'stream'],
    ['server: Globals next to an instance (chunks, page1)', 'late'],
    ['instance: Page1 and Page2 with a stylis plugin, a nonce and a key', 'late'],
    ['react: every server.js case in one page', 'late'],
    ['rehydration: Globals and classes (chunks)', 'late'],
  ];
  for (const [name, mode] of upstreamChecked) {
    it(`emotion's server tests, ${name} (${mode}): no rule inserted again on hydration`, async () => {
      lateGate = undefined;
      clientGate = undefined;
      const { serverRules, hydratedRules, problems } = await rulesBeforeAndAfterHydration(
        `${server.url}/upstream?case=${encodeURIComponent(name)}&mode=${mode}`,
      );
      expect(problems).toEqual([]);
      expect(serverRules.length).toBeGreaterThan(0);
      expect(hydratedRules).toEqual(serverRules);
      expect(duplicates(hydratedRules)).toEqual([]);
    });
  }
});
