import { randomBytes } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apollo, forwardHeaders } from '@kiln/apollo';
import { emotion } from '@kiln/emotion';
import {
  type BrowserSession,
  bundleForBrowser,
  type Listening,
  launchChromium,
  listen,
} from '@kiln/test-utils';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore } from '../src/memory-store';
import { type PartialCache, partialCache } from '../src/partial-cache';
import { memberPrice, PartialShop, PERSONAL, resolvers, typeDefs } from './fixtures/partial-shop';

/*
 * The partial shop served from a shell under a strict nonce CSP, loaded in Chromium by a
 * signed-in visitor and a guest: personal content right, no flash of unstyled content, no
 * GraphQL request during hydration, no console error (CSP violations and React's recoverable
 * errors are console errors).
 */

const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

let site: Listening;
let chromium: BrowserSession;
let shells: PartialCache;
let clientJs = '';
const renderErrors: unknown[] = [];

beforeAll(async () => {
  clientJs = await bundleForBrowser(new URL('./fixtures/partial-client.tsx', import.meta.url), {
    minify: true,
  });
  const yoga = createYoga<{ cookie: string | undefined }>({
    logging: false,
    schema: createSchema<{ cookie: string | undefined }>({ typeDefs, resolvers }),
  });
  shells = partialCache({ store: memoryStore(), ttl: 600_000 });
  site = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/graphql') {
      void yoga(req, res, { cookie: req.headers.cookie });
      return;
    }
    if (url.pathname === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(clientJs);
      return;
    }
    const nonce = randomBytes(18).toString('base64');
    res.setHeader(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'`,
    );
    const result = await shells.render(<PartialShop />, {
      request: req,
      nonce,
      bootstrapModules: ['/client.js'],
      plugins: [
        emotion(),
        apollo({
          makeClient: (ctx) =>
            new ApolloClient({
              cache: new InMemoryCache(),
              link: new HttpLink({
                uri: `${site.url}/graphql`,
                headers: forwardHeaders(ctx, ['cookie']),
              }),
            }),
          personal: ({ operationName }) => PERSONAL.has(operationName ?? ''),
        }),
      ],
      onError: (error) => renderErrors.push(error),
    });
    result.pipe(res);
  });
  chromium = await launchChromium();
  // the first request pre-renders and stores the shell
  await (
    await fetch(`${site.url}/`, { headers: { 'user-agent': 'Mozilla/5.0 Chrome/120' } })
  ).text();
  await shells.idle();
});

afterAll(async () => {
  await chromium?.close();
  await site?.close();
});

interface Visit {
  cache: string | null;
  /** The document holds React's reveal of a resumed hole (not a full render). */
  resumed: boolean;
  greeting: string;
  member: string;
  consoleErrors: string[];
  graphql: string[];
  screenshot: Buffer;
}

/** Loads the shop as `user` (or a guest); with `hydrate: false` the client bundle is blocked. */
async function visit(user: string | undefined, hydrate = true): Promise<Visit> {
  // a browser's user agent: headless Chromium's own is a crawler's, which gets a full render
  const context = await chromium.context({
    viewport: { width: 800, height: 600 },
    userAgent: BROWSER_UA,
  });
  try {
    if (user) await context.addCookies([{ name: 'user', value: user, url: site.url }]);
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const graphql: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('request', (request) => {
      if (request.url().includes('/graphql')) graphql.push(request.postData() ?? '');
    });
    if (!hydrate) await page.route('**/client.js', (route) => route.abort());
    const response = await page.goto(`${site.url}/`, { waitUntil: 'load' });
    const cache = response?.headers()['x-kiln-cache'] ?? null;
    const document = (await response?.text()) ?? '';
    if (hydrate) await page.waitForSelector('html[data-hydrated="1"]');
    // both holes revealed (by React's inline scripts, with or without the bundle)
    await page.waitForSelector('ul[data-testid="member"]');
    await page.waitForSelector('[data-testid="greeting"]:not(:has-text("Welcome"))');
    const greeting = (await page.textContent('[data-testid="greeting"]')) ?? '';
    const member = (await page.textContent('[data-testid="member"]')) ?? '';
    const screenshot = await page.screenshot({ fullPage: true });
    return {
      cache,
      resumed: document.includes('$RC('),
      greeting,
      member,
      // the blocked bundle is the one failed load of the page that is not hydrated
      consoleErrors: hydrate
        ? consoleErrors
        : consoleErrors.filter((e) => e !== 'Failed to load resource: net::ERR_FAILED'),
      graphql,
      screenshot,
    };
  } finally {
    await context.close();
  }
}

describe('a partial page in Chromium, under a strict nonce CSP', () => {
  it('a signed-in visitor gets their greeting and prices in the shell, hydrated with no request and no error', async () => {
    const ada = await visit('Ada');
    expect(ada.cache).toBe('partial');
    expect(ada.resumed).toBe(true);
    expect(ada.greeting).toBe('Hello Ada');
    expect(ada.member).toContain(`member ${memberPrice('Ada', 1)}`);
    expect(ada.consoleErrors).toEqual([]);
    expect(ada.graphql).toEqual([]);
    expect(renderErrors).toEqual([]);
  });

  it('a guest gets the guest parts from the same shell', async () => {
    const guest = await visit(undefined);
    expect(guest.cache).toBe('partial');
    expect(guest.resumed).toBe(true);
    expect(guest.greeting).toBe('Hello Guest');
    expect(guest.member).toContain('member 100');
    expect(guest.member).not.toContain(String(memberPrice('Ada', 1)));
    expect(guest.consoleErrors).toEqual([]);
    expect(guest.graphql).toEqual([]);
  });

  it('no flash of unstyled content: the page before hydration looks as it does after', async () => {
    const before = await visit('Ada', false);
    const after = await visit('Ada');
    expect(before.greeting).toBe('Hello Ada');
    expect([before.cache, after.cache]).toEqual(['partial', 'partial']);
    expect(before.consoleErrors).toEqual([]);
    expect(before.screenshot.equals(after.screenshot)).toBe(true);
  });
});
