/**
 * A page whose data never arrives still gets a complete response. A GraphQL resolver never
 * answers the server's request for one Suspense boundary; with `timeoutMs` Kiln aborts
 * the render, reports the timeout once, and the response ends: streamed, the shell keeps the
 * fallback and React's client-render instruction for that boundary follows; buffered (a
 * crawler), the document is complete, status 200, with the fallback marked for client
 * rendering and no streaming script. The server's GraphQL request is cancelled. In Chromium the
 * streamed page hydrates under a strict CSP and the browser renders the boundary with data it
 * fetches itself, styled, with no console error; React's one recoverable error names the
 * server's timeout.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apollo } from '@kiln/apollo';
import { KilnError, type RenderDiagnostics, type RenderErrorInfo, renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { CHROME_UA, GOOGLEBOT_UA } from '@kiln/example-app/test-support';
import { parse } from '@kiln/serialize';
import {
  attr,
  type BrowserSession,
  bundleForBrowser,
  findAll,
  type Listening,
  launchChromium,
  listen,
  parseDocument,
  textOf,
} from '@kiln/test-utils';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ApolloBufferedState, browserCacheOf } from './support/apollo-state';
import { GREETING, LATE_FROM_BROWSER, TimeoutPage } from './support/timeouts-app';

/**
 * Long enough for the shell's own query to be answered on a loaded machine, so that only the
 * late boundary, whose data never comes, is cut short by the timeout.
 */
const TIMEOUT_MS = 3_000;
/** Far more than the render may take once it timed out; without the timeout it would never end. */
const END_WITHIN_MS = TIMEOUT_MS + 10_000;

/** The header the server's GraphQL link sends; the `late` resolver never answers it. */
const FROM_SERVER = 'x-rendered-by';

interface Render {
  errors: { error: unknown; info: RenderErrorInfo }[];
  finished: Promise<RenderDiagnostics>;
}

/** One GraphQL request as the GraphQL server saw it. */
interface GraphQLRequestLog {
  operation: string;
  fromServer: boolean;
  /** `undefined` while open; `true` if the client went away before the response ended. */
  aborted: boolean | undefined;
}

/** GETs a page and records when the response ended (ms after the request was sent). */
function getPage(url: string, userAgent: string) {
  return new Promise<{
    status: number;
    headers: IncomingMessage['headers'];
    html: string;
    endedAt: number;
  }>((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(url, { headers: { 'user-agent': userAgent } }, (res) => {
      let html = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        html += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          html,
          endedAt: performance.now() - started,
        }),
      );
    });
    req.setTimeout(END_WITHIN_MS, () => req.destroy(new Error('the response did not end')));
    req.on('error', reject);
    req.end();
  });
}

let site: Listening;
let browser: BrowserSession;
let clientJs = '';
const renders: Render[] = [];
const graphqlLog: GraphQLRequestLog[] = [];

beforeAll(async () => {
  clientJs = await bundleForBrowser(new URL('./support/timeouts-client.tsx', import.meta.url), {
    mode: 'development',
  });
  const yoga = createYoga<{ req: IncomingMessage }>({
    logging: false,
    schema: createSchema<{ req: IncomingMessage }>({
      typeDefs: 'type Query { greeting: String!, late: String! }',
      resolvers: {
        Query: {
          greeting: () => GREETING,
          // Never settles for the server; answers the browser at once.
          late: (_root, _args, ctx) =>
            ctx.req.headers[FROM_SERVER] ? new Promise<string>(() => {}) : LATE_FROM_BROWSER,
        },
      },
    }),
  });
  const graphql = (req: IncomingMessage, res: ServerResponse) => {
    const entry: GraphQLRequestLog = {
      operation: '(unread)',
      fromServer: req.headers[FROM_SERVER] !== undefined,
      aborted: undefined,
    };
    graphqlLog.push(entry);
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      entry.operation = (JSON.parse(body) as { operationName?: string }).operationName ?? '?';
    });
    res.on('close', () => {
      entry.aborted = !res.writableFinished;
    });
    void yoga(req, res, { req });
  };

  site = await listen((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/graphql') return graphql(req, res);
    if (path === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(clientJs);
      return;
    }
    if (path !== '/') {
      // Only the page renders (not the browser's /favicon.ico).
      res.writeHead(204).end();
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    const errors: Render['errors'] = [];
    void renderToHtml(<TimeoutPage />, {
      request: req,
      nonce,
      timeoutMs: TIMEOUT_MS,
      bootstrapModules: ['/client.js'],
      plugins: [
        emotion(),
        apollo({
          makeClient: () =>
            new ApolloClient({
              ssrMode: true,
              cache: new InMemoryCache(),
              link: new HttpLink({
                uri: `${site.url}/graphql`,
                headers: { [FROM_SERVER]: 'kiln' },
              }),
            }),
        }),
      ],
      onError: (error, info) => errors.push({ error, info }),
    }).then((result) => {
      renders.push({ errors, finished: result.finished });
      result.headers.set(
        'content-security-policy',
        `script-src 'nonce-${nonce}' 'strict-dynamic'; style-src 'nonce-${nonce}'`,
      );
      result.pipe(res);
    });
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

beforeEach(() => {
  renders.length = 0;
  graphqlLog.length = 0;
});

/** The one render of the test, its end, and the checks every timed-out render passes. */
async function timedOutRender(): Promise<RenderDiagnostics> {
  expect(renders).toHaveLength(1);
  const [render] = renders as [Render];
  const diagnostics = await render.finished;
  // Aborted by the timeout, not by anything else: reported once, as a timeout.
  expect(render.errors).toHaveLength(1);
  const [{ error, info }] = render.errors as [Render['errors'][number]];
  expect(error).toBeInstanceOf(KilnError);
  expect((error as KilnError).code).toBe('KILN_TIMEOUT');
  expect(info.phase).toBe('timeout');
  expect(info.componentStack).toMatch(/\bat Late\b/);
  expect(diagnostics.endMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
  // The server's request for the late data was cancelled, not left hanging.
  const fromServer = () =>
    graphqlLog.filter((r) => r.fromServer).sort((a, b) => a.operation.localeCompare(b.operation));
  await expect.poll(fromServer, { timeout: 5_000 }).toEqual([
    { operation: 'Greeting', fromServer: true, aborted: false },
    { operation: 'Late', fromServer: true, aborted: true },
  ]);
  return diagnostics;
}

describe('a boundary whose data never arrives', () => {
  it('streamed: the shell keeps the fallback, React is told to render the boundary in the browser, the response ends', async () => {
    const page = await getPage(site.url, CHROME_UA);
    expect(page.status).toBe(200);
    expect(page.endedAt).toBeLessThan(END_WITHIN_MS);
    const diagnostics = await timedOutRender();
    expect(diagnostics.mode).toBe('stream');

    const html = page.html;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.endsWith('</body></html>')).toBe(true);
    expect(html).toContain(`<h1 data-testid="greeting" class="css-`);
    expect(html).toContain(GREETING);
    // The pending boundary: its template id, then the fallback, in the shell...
    const pending =
      /<!--\$\?--><template id="([^"]+)"><\/template><p data-testid="late-fallback"/.exec(html);
    expect(pending).not.toBeNull();
    // ...and after the timeout React's instruction to render that boundary on the client.
    const id = pending![1]!;
    expect(html.indexOf(`$RX("${id}"`)).toBeGreaterThan(pending!.index);
    expect(html).not.toContain('data-testid="late"');
    expect(html).not.toContain(LATE_FROM_BROWSER);
  });

  it('buffered for a crawler: a complete 200 document with the fallback and no streaming script', async () => {
    const page = await getPage(site.url, GOOGLEBOT_UA);
    expect(page.status).toBe(200);
    expect(page.endedAt).toBeLessThan(END_WITHIN_MS);
    const diagnostics = await timedOutRender();
    expect(diagnostics.mode).toBe('buffer');

    const html = page.html;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.endsWith('</body></html>')).toBe(true);
    const doc = parseDocument(html);
    const body = findAll(doc, 'body')[0]!;
    expect(findAll(body, 'h1').map(textOf)).toEqual([GREETING]);
    // The boundary is the fallback, marked for client rendering (`<!--$!-->`), not pending.
    expect(html).toMatch(/<!--\$!--><template[^>]*><\/template><p data-testid="late-fallback"/);
    expect(html).not.toContain('<!--$?-->');
    expect(html).not.toContain('data-testid="late"');
    // No inline script at all: only the module entry and the JSON state.
    for (const script of findAll(doc, 'script')) {
      const inert =
        attr(script, 'type') === 'application/json' || attr(script, 'src') !== undefined;
      expect(inert, `inline script: ${textOf(script).slice(0, 80)}`).toBe(true);
    }
    // The state holds the shell's data, and nothing for the boundary that timed out.
    const stateScript = findAll(doc, 'script').find((s) => attr(s, 'data-kiln-state') === 'apollo');
    const cache = browserCacheOf(parse(textOf(stateScript!)) as ApolloBufferedState);
    expect(cache.ROOT_QUERY).toEqual({ __typename: 'Query', greeting: GREETING });
  });

  it('in Chromium the page hydrates and the browser renders the boundary with its own data', async () => {
    const context = await browser.context({ userAgent: CHROME_UA });
    try {
      const tab = await context.newPage();
      const consoleErrors: string[] = [];
      const graphqlFromBrowser: string[] = [];
      tab.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') {
          consoleErrors.push(message.text());
        }
      });
      tab.on('pageerror', (error) => consoleErrors.push(String(error)));
      tab.on('request', (request) => {
        if (new URL(request.url()).pathname === '/graphql') {
          graphqlFromBrowser.push(
            (JSON.parse(request.postData() ?? '{}') as { operationName?: string }).operationName ??
              '?',
          );
        }
      });
      await tab.goto(site.url, { waitUntil: 'load' });
      await tab.waitForFunction(() => window.__hydrated === true);
      await tab.getByTestId('late').waitFor();
      await timedOutRender();

      expect(await tab.getByTestId('late').textContent()).toBe(LATE_FROM_BROWSER);
      expect(await tab.getByTestId('late-fallback').count()).toBe(0);
      expect(await tab.getByTestId('greeting').textContent()).toBe(GREETING);
      // Styled by a rule the browser inserted with the server's nonce, under the strict CSP.
      expect(await tab.getByTestId('late').evaluate((el) => getComputedStyle(el).color)).toBe(
        'rgb(21, 128, 61)',
      );
      // Only the boundary's data was fetched; the shell's came with the page.
      expect(graphqlFromBrowser).toEqual(['Late']);
      expect(consoleErrors).toEqual([]);
      // React reports the client-rendered boundary once, with the server's reason.
      expect(await tab.evaluate(() => window.__recoverable)).toEqual([
        expect.stringMatching(
          /^Switched to client rendering because the server rendering aborted due to:\s+\[kiln\/core\] the render did not finish within 3000 ms/,
        ),
      ]);
    } finally {
      await context.close();
    }
  });
});
