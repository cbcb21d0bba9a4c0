/**
 * Hostile input, end to end.
 *
 * 1. Hostile requests (malformed and oversized cookies, headers over Node's limit, broken
 *    percent-encoding, huge URLs, odd methods, absolute-form targets, hostile `Host` headers)
 *    sent over raw sockets to the real Express and `node:http` example servers: each gets an
 *    exact, sensible status with no stack trace or file path, the server keeps serving, and
 *    `Object.prototype` is untouched.
 * 2. Hostile data from a real GraphQL server written by Kiln into every place it writes HTML
 *    (title, meta, text, attributes, emotion CSS, `setState` values and keys, the Apollo cache
 *    of a buffered page, Apollo's streamed result scripts, a client-side redirect, a shell
 *    error document): parsed as a browser parses it, no element, attribute or script comes from
 *    the data, every value reads back exactly, and the streamed page hydrates in Chromium with
 *    no alert, no error and the data shown as text.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apollo, forwardHeaders } from '@kiln/apollo';
import { type RenderErrorInfo, renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { createShop, listening, type RunningServer } from '@kiln/example-app';
import { buildClient } from '@kiln/example-app/build';
import { CHROME_UA } from '@kiln/example-app/test-support';
import { startServer as startExpress } from '@kiln/example-express';
import { startServer as startNodeHttp } from '@kiln/example-node-http';
import { parse } from '@kiln/serialize';
import {
  attr,
  type BrowserSession,
  bundleForBrowser,
  type Element,
  findAll,
  type Listening,
  launchChromium,
  listen,
  parseDocument,
  textOf,
} from '@kiln/test-utils';
import express from 'express';
import { GraphQLScalarType } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { parse as parseHtml } from 'parse5';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApolloBufferedState, browserCacheOf } from './support/apollo-state';
import {
  CORPUS,
  cssString,
  HostileApp,
  JOINED,
  PROTO_JSON,
  STATE_KEY,
  sameValue,
  stateValue,
  wellFormed,
} from './support/hostile';

/** The own property names of `Object.prototype` when this file started. */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** Nothing was added to `Object.prototype`, under any name the tests tried to inject. */
function expectPrototypeUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_NAMES);
  const probe: Record<string, unknown> = {};
  for (const name of ['x', 'y', 'polluted', 'prototype', '</script><script>alert(12)</script>']) {
    expect(probe[name], name).toBeUndefined();
  }
  expect(probe.constructor).toBe(Object);
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

/** The repository's folder: no response may name a file in it. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A stack frame (`at fn (file:1:2)`), a source position or a path on this machine. */
function expectNoLeak(body: string): void {
  expect(body).not.toMatch(
    /\bat [^\s()]+ \(|\.(?:[cm]?js|tsx?):\d+:\d+|node_modules|node:internal/,
  );
  expect(body).not.toContain(ROOT);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * Sends `head` (a request line and headers, as written) over a new TCP connection and reads
 * the response until the server closes it. Nothing is normalised on the way.
 */
function sendRaw(url: string, head: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(20_000, () =>
      socket.destroy(new Error(`no response to ${head.slice(0, 60)}`)),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error(`no response head to ${head.slice(0, 60)}`));
      const [statusLine = '', ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const raw = all.subarray(end + 4);
      const body = headers['transfer-encoding'] === 'chunked' ? dechunk(raw) : raw;
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') });
    });
    socket.write(head, 'latin1');
  });
}

interface RawRequest {
  method?: string;
  target?: string;
  /** Headers as sent; `host`, `user-agent` and `connection: close` are added unless given. */
  headers?: Record<string, string>;
}

function requestHead(url: string, request: RawRequest): string {
  const headers: Record<string, string> = {
    host: new URL(url).host,
    'user-agent': CHROME_UA,
    connection: 'close',
    ...request.headers,
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${request.method ?? 'GET'} ${request.target ?? '/'} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

const send = (url: string, request: RawRequest = {}) => sendRaw(url, requestHead(url, request));

/** The visitor name the shop's greeting shows, or undefined for a guest. */
function greetingName(html: string): string | undefined {
  const greeting = findAll(parseDocument(html), 'p').find(
    (p) => attr(p, 'data-testid') === 'greeting',
  );
  const strong = greeting ? findAll(greeting, 'strong')[0] : undefined;
  return strong ? textOf(strong) : undefined;
}

/** A page of the shop: complete, with the scripts the shop writes and none from the input. */
function expectShopPage(html: string): void {
  expect(html).toMatch(/<\/html>$/);
  expect(html).not.toContain('alert(');
  for (const script of findAll(parseDocument(html), 'script')) {
    expect(textOf(script)).not.toContain('evil.test');
  }
}

/** 4,000 cookies, about 35 KB: more than Node's default 16 KiB for all headers. */
const MANY_COOKIES = `${Array.from({ length: 4_000 }, (_, i) => `c${i}=v${i}`).join('; ')}; kiln_visitor=Ada`;

type ServerName = 'express' | 'node:http';

interface HostileCase {
  name: string;
  request: RawRequest;
  status: number | Record<ServerName, number>;
  check?: (response: RawResponse) => void;
}

const HOSTILE_REQUESTS: HostileCase[] = [
  {
    name: 'a cookie with broken percent-encoding',
    request: { headers: { cookie: 'kiln_visitor=%E0%A4%A' } },
    status: 200,
    check: (r) => expect(greetingName(r.body)).toBe('%E0%A4%A'),
  },
  {
    name: 'a cookie with an unterminated quote',
    request: { headers: { cookie: 'kiln_visitor="Ada; other="x' } },
    status: 200,
    check: (r) => expect(greetingName(r.body)).toBe('"Ada'),
  },
  {
    name: 'a cookie header of separators only',
    request: { headers: { cookie: ';;;==' } },
    status: 200,
    check: (r) => expect(greetingName(r.body)).toBeUndefined(),
  },
  {
    name: '__proto__ and constructor cookies',
    request: { headers: { cookie: '__proto__=x; constructor=y; prototype=z; kiln_visitor=Ada' } },
    status: 200,
    check: (r) => expect(greetingName(r.body)).toBe('Ada'),
  },
  {
    name: 'a cookie holding markup',
    request: { headers: { cookie: 'kiln_visitor=</script><script>alert(1)</script>' } },
    status: 200,
    check: (r) => {
      expect(greetingName(r.body)).toBe('</script><script>alert(1)</script>');
      const scripts = findAll(parseDocument(r.body), 'script');
      expect(scripts.filter((s) => textOf(s).includes('<script>alert(1)'))).toEqual([]);
    },
  },
  {
    name: 'an 8 KB cookie',
    request: { headers: { cookie: `kiln_visitor=${'A'.repeat(8_000)}` } },
    status: 200,
    check: (r) => expect(greetingName(r.body)).toBe('A'.repeat(40)),
  },
  {
    name: '4,000 cookies (over the header limit)',
    request: { headers: { cookie: MANY_COOKIES } },
    status: 431,
  },
  {
    name: 'a 16 KB header value (over the header limit)',
    request: { headers: { 'x-padding': 'a'.repeat(16 * 1024) } },
    status: 431,
  },
  {
    name: 'a lone % in the path',
    request: { target: '/%' },
    status: { express: 400, 'node:http': 404 },
  },
  {
    name: 'a truncated UTF-8 sequence in the path',
    request: { target: '/%E0%A4%A' },
    status: { express: 400, 'node:http': 404 },
  },
  {
    name: 'invalid percent-encoding in the query',
    request: { target: '/?q=%ZZ&r=%E0%A4%A' },
    status: 200,
    check: (r) => expectShopPage(r.body),
  },
  {
    name: 'an 8 KB path',
    request: { target: `/${'a'.repeat(8 * 1024)}` },
    status: 404,
    check: (r) => expect(r.body).toContain('Nothing here'),
  },
  {
    name: 'a 64 KB path (over the header limit)',
    request: { target: `/${'a'.repeat(64 * 1024)}` },
    status: 431,
  },
  {
    name: 'OPTIONS',
    request: { method: 'OPTIONS' },
    status: { express: 200, 'node:http': 405 },
    check: (r) => expect(r.headers.allow).toBe('GET, HEAD'),
  },
  {
    name: 'PROPFIND',
    request: { method: 'PROPFIND' },
    status: { express: 404, 'node:http': 405 },
  },
  { name: 'TRACE', request: { method: 'TRACE' }, status: { express: 404, 'node:http': 405 } },
  { name: 'a made-up method (BREW)', request: { method: 'BREW' }, status: 400 },
  {
    name: 'an absolute-form request target',
    request: { target: 'http://evil.test/' },
    status: 200,
    check: (r) => {
      expectShopPage(r.body);
      expect(r.body).not.toContain('evil.test');
    },
  },
  {
    name: 'a foreign Host header',
    request: { headers: { host: 'evil.test:99999' } },
    status: 200,
    check: (r) => {
      expectShopPage(r.body);
      expect(r.body).not.toContain('evil.test');
    },
  },
  {
    name: 'a Host header holding markup',
    request: { headers: { host: '"><script>alert(1)</script>' } },
    status: 200,
    check: (r) => expectShopPage(r.body),
  },
  {
    name: 'a broken IPv6 Host header',
    request: { headers: { host: '[::1' } },
    status: 200,
    check: (r) => expectShopPage(r.body),
  },
];

describe('hostile requests against the example servers', () => {
  let assetsDir: string;
  const servers = new Map<ServerName, RunningServer>();
  let roomy: RunningServer;
  const renderErrors: unknown[] = [];
  const warnings: unknown[] = [];
  let gated: RunningServer;
  /** What the servers logged: only Express's own URIErrors for undecodable paths are expected. */
  const logged: unknown[] = [];
  const previousEnv = process.env.NODE_ENV;

  beforeAll(async () => {
    // As deployed: in development Express answers its own 400s with a stack trace.
    process.env.NODE_ENV = 'production';
    vi.spyOn(console, 'error').mockImplementation((error: unknown) => logged.push(error));
    assetsDir = await mkdtemp(join(tmpdir(), 'kiln-hostile-'));
    await buildClient({ outDir: assetsDir });
    const options = {
      port: 0,
      host: '127.0.0.1',
      assetsDir,
      picksLatencyMs: 20,
      // A hostile Host is a warning (KILN_INVALID_HOST), never a render error.
      onError: (error: unknown, info: RenderErrorInfo) =>
        (info.level === 'warning' ? warnings : renderErrors).push(error),
    };
    servers.set('express', await startExpress(options));
    servers.set('node:http', await startNodeHttp(options));
    // The same shop in a node:http server that accepts 64 KiB of headers.
    const shop = await createShop(options);
    const server: Server = createServer(
      { maxHeaderSize: 65_536 },
      async (req: IncomingMessage, res: ServerResponse) => (await shop.render(req)).pipe(res),
    );
    roomy = await listening(server.listen(0, '127.0.0.1'));
    // The shop behind an Express gate: the product pages are refused before Kiln renders.
    const gate = express();
    gate.use('/products', (_req, res) => {
      res.status(403).type('text/plain').send('Forbidden');
    });
    gate.get('/{*path}', async (req, res) => (await shop.render(req)).pipe(res));
    gated = await listening(gate.listen(0, '127.0.0.1'));
  });

  afterAll(async () => {
    process.env.NODE_ENV = previousEnv;
    vi.restoreAllMocks();
    await roomy?.close();
    await gated?.close();
    for (const server of servers.values()) await server.close();
    if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  });

  afterEach(() => {
    expectPrototypeUntouched();
    expect(renderErrors).toEqual([]);
    expect(logged.filter((error) => !(error instanceof URIError))).toEqual([]);
  });

  describe.each(['express', 'node:http'] as const)('%s', (name) => {
    const url = () => servers.get(name)!.url;

    it.each(HOSTILE_REQUESTS)('$name: exact status, no leak, still serving', async (test) => {
      const response = await send(url(), test.request);
      const expected = typeof test.status === 'number' ? test.status : test.status[name];
      expect(response.status).toBe(expected);
      expectNoLeak(response.body);
      test.check?.(response);

      const next = await send(url());
      expect(next.status).toBe(200);
      expect(next.body).toContain('data-testid="picks"');
      expect(next.body).toMatch(/<\/html>$/);
    });

    it('answers HEAD with the headers of GET and no body', async () => {
      const get = await send(url());
      const head = await send(url(), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(get.body.length).toBeGreaterThan(1_000);
      // Everything but the date and the body's framing, which a HEAD response has no body for.
      const framing = new Set(['date', 'transfer-encoding', 'content-length']);
      const names = (r: RawResponse) =>
        Object.keys(r.headers)
          .filter((h) => !framing.has(h))
          .sort();
      expect(names(head)).toEqual(names(get));
      for (const header of ['content-type', 'x-content-type-options', 'referrer-policy']) {
        expect(head.headers[header], header).toBe(get.headers[header]);
      }
      expect(head.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']{20,}'/);
    });
  });

  it.each([
    {
      name: 'a Host with a path and fragment',
      target: '/public',
      host: 'shop.test/products/kettle#',
    },
    { name: 'a Host with a path and query', target: '/public', host: 'shop.test/products/kettle?' },
    {
      name: 'a Host with credentials and a path',
      target: '/public',
      host: 'a@shop.test/products/kettle#',
    },
    {
      name: 'an absolute-form target and a hostile Host',
      target: 'http://shop.test/public',
      host: 'x/products/kettle#',
    },
    { name: 'dot segments', target: '/public/../products/kettle', host: 'shop.test' },
    { name: 'encoded dot segments', target: '/public/%2E%2e/products/kettle', host: 'shop.test' },
  ])("an Express gate (app.use('/products', deny)) cannot be bypassed: $name", async (test) => {
    warnings.length = 0;
    const direct = await send(gated.url, { target: '/products/kettle' });
    expect(direct.status).toBe(403);
    const response = await send(gated.url, { target: test.target, headers: { host: test.host } });
    // The gate let the request through (it is not under /products), so Kiln must not render the product.
    expect(response.status).not.toBe(403);
    expectShopPage(response.body);
    expect(response.body).not.toContain('data-testid="views"');
    expect(warnings.map((w) => (w as { code?: string }).code)).toEqual([
      test.host === 'shop.test' ? 'KILN_INVALID_TARGET' : 'KILN_INVALID_HOST',
    ]);
  });

  it('renders normally with headers over 16 KiB when the server allows 64 KiB', async () => {
    const big = await send(roomy.url, { headers: { 'x-padding': 'a'.repeat(16 * 1024) } });
    expect(big.status).toBe(200);
    expect(big.body).toContain('data-testid="picks"');

    const cookies = await send(roomy.url, { headers: { cookie: MANY_COOKIES } });
    expect(cookies.status).toBe(200);
    expect(greetingName(cookies.body)).toBe('Ada');

    const path = await send(roomy.url, { target: `/${'a'.repeat(32 * 1024)}` });
    expect(path.status).toBe(404);
    expect(path.body).toContain('Nothing here');

    const over = await send(roomy.url, { target: `/${'a'.repeat(64 * 1024)}` });
    expect(over.status).toBe(431);
    expect((await send(roomy.url)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile data

const JSON_SCALAR = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
});

/** A graphql-yoga server whose every string is from the corpus (ids included). */
function hostileGraphQL() {
  const texts = (prefix: string) => CORPUS.map((text, i) => ({ id: `${prefix}${i}${text}`, text }));
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      scalar JSON
      type Text { id: ID!, text: String! }
      type Page { id: ID!, title: String!, description: String!, texts: [Text!]! }
      type Late { id: ID!, texts: [Text!]! }
      type Probe { id: ID!, json: JSON }
      type Query { page: Page!, late(ms: Int!): Late!, probe: Probe! }
    `,
    resolvers: {
      JSON: JSON_SCALAR,
      Query: {
        page: () => ({
          id: CORPUS[0],
          title: JOINED,
          description: JOINED,
          texts: texts('shell'),
        }),
        late: async (_: unknown, args: { ms: number }) => {
          await new Promise((resolve) => setTimeout(resolve, args.ms));
          return { id: CORPUS[1], texts: texts('late') };
        },
        probe: () => ({ id: CORPUS[2], json: JSON.parse(PROTO_JSON) }),
      },
    },
  });
  return createYoga({ schema, logging: false, maskedErrors: false });
}

const NONCE = randomBytes(16).toString('base64');

/** Where the late boundary of `/redirect` sends the visitor. */
const REDIRECT_TARGET = `/next?to=</script><script>alert(13)</script>&q="'><img src=x onerror=alert(14)>\u2028`;
/** The target as Kiln writes it: serialised by the URL standard (`<`, `>`, quotes and U+2028 percent-encoded). */
const REDIRECT_LOCATION = (() => {
  const url = new URL(REDIRECT_TARGET, 'http://site.invalid');
  return url.pathname + url.search;
})();

/** The kinds of script a page may hold; anything else is an injection. */
type ScriptKind = 'state' | 'module' | 'apollo' | 'react' | 'redirect';

const APOLLO_SCRIPT =
  /^\(self\.__kilnApollo_apollo=self\.__kilnApollo_apollo\|\|\[\]\)\.push\(("(?:[^"\\]|\\.)*")\)$/s;
const REDIRECT_SCRIPT = /^location\.replace\(("(?:[^"\\]|\\.)*")\)$/s;
const REACT_SCRIPT =
  /^(?:\$R[A-Z]|requestAnimationFrame\(function\(\)\{\$RT=performance\.now\(\)\}\);$)/;

function scriptKind(script: Element): ScriptKind | `unexpected: ${string}` {
  const text = textOf(script);
  if (attr(script, 'type') === 'application/json' && attr(script, 'data-kiln-state')) {
    return 'state';
  }
  if (attr(script, 'type') === 'module' && attr(script, 'src') === '/client.js' && text === '') {
    return 'module';
  }
  if (APOLLO_SCRIPT.test(text)) return 'apollo';
  if (REDIRECT_SCRIPT.test(text)) return 'redirect';
  // React's own streaming runtime and its calls: `$RC("B:0","S:0")`, `$RB=[]…`.
  if (REACT_SCRIPT.test(text) && !/alert|onerror|onload/.test(text)) return 'react';
  return `unexpected: ${text.slice(0, 120)}`;
}

/** A CSS string's value: escapes resolved (`\\XX ` code points, `\\c` characters). */
function cssStringValue(literal: string): string {
  return literal
    .slice(1, -1)
    .replace(/\\([0-9a-fA-F]{1,6})[ \t\n]?|\\(.)/gs, (_, hex: string | undefined, char: string) =>
      hex ? String.fromCodePoint(Number.parseInt(hex, 16)) : char,
    );
}

interface StreamChunk {
  d?: Record<number, string>;
  w?: [number, unknown, unknown, string?, boolean?][];
}

/** Every Apollo result chunk of a streamed page, decoded as the client decodes it. */
function apolloChunks(doc: Element): StreamChunk[] {
  return findAll(doc, 'script')
    .map((s) => APOLLO_SCRIPT.exec(textOf(s))?.[1])
    .filter((literal) => literal !== undefined)
    .map((literal) => parse(JSON.parse(literal) as string) as StreamChunk);
}

/** Every `content:` string in a style sheet's text, decoded. */
function contentStrings(css: string): string[] {
  return [...css.matchAll(/content:("(?:[^"\\]|\\.)*")/gs)].map((m) => cssStringValue(m[1]!));
}

/** Every element of a parsed document, in order. */
function allElements(node: Element): Element[] {
  const found: Element[] = [];
  const walk = (n: Element) => {
    if (n.tagName) found.push(n);
    for (const child of n.childNodes ?? []) walk(child);
    if (n.content) walk(n.content);
  };
  walk(node);
  return found;
}

/**
 * No element or attribute came from the data: no images, SVG, frames, event handlers, and no
 * `<template>` but React's empty Suspense markers (`<template id="B:0">`).
 */
function expectNoInjectedMarkup(doc: Element): void {
  const elements = allElements(doc);
  const tags = new Set(elements.map((e) => e.tagName));
  for (const tag of ['img', 'svg', 'iframe', 'textarea', 'object', 'embed']) {
    expect(tags.has(tag), `<${tag}>`).toBe(false);
  }
  for (const template of findAll(doc, 'template')) {
    expect(attr(template, 'id')).toMatch(/^B:\d+$/);
    expect(template.content?.childNodes ?? []).toEqual([]);
  }
  const handlers = elements.flatMap((e) =>
    (e.attrs ?? []).filter((a) => a.name.startsWith('on')).map((a) => `${e.tagName} ${a.name}`),
  );
  expect(handlers).toEqual([]);
}

/** Every script and style carries the page's nonce. */
function expectNonces(doc: Element): void {
  for (const element of [...findAll(doc, 'script'), ...findAll(doc, 'style')]) {
    expect(attr(element, 'nonce'), textOf(element).slice(0, 80)).toBe(NONCE);
  }
}

function stateOf(doc: Element, key: string): unknown {
  const scripts = findAll(doc, 'script').filter((s) => attr(s, 'data-kiln-state') === key);
  expect(scripts, `state ${key}`).toHaveLength(1);
  return parse(textOf(scripts[0]!));
}

/** The hostile strings, rendered: title, meta, text, attributes, CSS and the app's state. */
function expectRenderedData(doc: Element, lists: ('shell' | 'late')[]): void {
  const head = findAll(doc, 'head')[0]!;
  expect(findAll(head, 'title').map(textOf)).toEqual([wellFormed(JOINED)]);
  const description = findAll(head, 'meta').filter((m) => attr(m, 'name') === 'description');
  expect(description.map((m) => attr(m, 'content'))).toEqual([wellFormed(JOINED)]);

  const items = findAll(doc, 'li');
  const styles = findAll(doc, 'style');
  const strings = contentStrings(styles.map(textOf).join('\n'));
  for (const list of lists) {
    CORPUS.forEach((text, i) => {
      const shown = wellFormed(text);
      const li = items.find((e) => attr(e, 'id') === `${list}-${i}`);
      expect(li, `${list}-${i}`).toBeDefined();
      expect(attr(li!, 'title')).toBe(shown);
      expect(attr(li!, 'data-text')).toBe(shown);
      expect(attr(li!, 'data-id')).toBe(wellFormed(`${list}${i}${text}`));
      const link = findAll(li!, 'a')[0]!;
      expect(textOf(link)).toBe(shown);
      expect(attr(link, 'href')).toBe(`/search?q=${encodeURIComponent(shown)}`);
      // The `::after` (styled) and `::before` (css prop) rules both hold the whole string; the
      // late list uses the same classes, whose rules are not sent twice.
      expect(strings.filter((s) => s === shown).length, shown).toBe(2);
    });
  }
  for (const style of styles) {
    expect(attr(style, 'data-emotion')).toMatch(/^css /);
    expect(textOf(style)).toMatch(/^\.css-[\w-]+::(?:after|before)\{content:"(?:[^"\\]|\\.)*";\}/);
    expect(textOf(style)).toMatch(/;\}$/);
  }

  const state = stateOf(doc, STATE_KEY);
  expect(sameValue(state, stateValue(CORPUS))).toBe(true);
  const json = (state as { json: Record<string, unknown> }).json;
  expect(Object.hasOwn(json, '__proto__')).toBe(true);
  expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
}

/** The Apollo cache value holds the corpus exactly (lone surrogates included). */
function expectCacheTexts(cache: Record<string, unknown>, prefix: string): void {
  for (const [i, text] of CORPUS.entries()) {
    const entry = cache[`Text:${prefix}${i}${text}`] as { text?: unknown } | undefined;
    expect(entry?.text, `Text:${prefix}${i}`).toBe(text);
  }
}

describe('hostile data in every place Kiln writes HTML', () => {
  let site: Listening;
  let bundle: string;
  const refused: unknown[] = [];
  const renderErrors: { error: unknown; phase: string }[] = [];
  const browserGraphQL: string[] = [];

  beforeAll(async () => {
    // The browser entry only starts the shared app's client (support/hostile.tsx).
    const entryDir = await mkdtemp(join(tmpdir(), 'kiln-hostile-entry-'));
    try {
      const entry = join(entryDir, 'entry.ts');
      const app = fileURLToPath(new URL('./support/hostile.tsx', import.meta.url));
      await writeFile(
        entry,
        `import { startHostileClient } from ${JSON.stringify(app)};\nvoid startHostileClient();\n`,
      );
      bundle = await bundleForBrowser(entry, { minify: true });
    } finally {
      await rm(entryDir, { recursive: true, force: true });
    }
    const yoga = hostileGraphQL();
    site = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/graphql') {
        if (req.headers['user-agent'] !== 'kiln-server') browserGraphQL.push(req.url ?? '');
        void yoga(req, res);
        return;
      }
      if (url.pathname === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        return;
      }
      void renderToHtml(
        <HostileApp
          path={url.pathname}
          redirectTo={
            url.pathname === '/redirect'
              ? REDIRECT_TARGET
              : url.pathname === '/redirect-js'
                ? 'javascript:alert(15)'
                : undefined
          }
          onRefusedKey={(error) => refused.push(error)}
        />,
        {
          request: req,
          nonce: NONCE,
          mode: url.searchParams.get('mode') === 'buffer' ? 'buffer' : 'stream',
          // No timer decides what these pages hold: on a loaded machine the default 10 s could
          // cut the late boundary off, and the browser would render it (React's error #419).
          timeoutMs: 600_000,
          bootstrapModules: ['/client.js'],
          plugins: [
            emotion(),
            apollo({
              makeClient: (ctx) =>
                new ApolloClient({
                  ssrMode: true,
                  cache: new InMemoryCache(),
                  link: new HttpLink({
                    uri: `${site.url}/graphql`,
                    headers: { ...forwardHeaders(ctx), 'user-agent': 'kiln-server' },
                  }),
                }),
              directResults: url.searchParams.get('direct') !== 'off',
            }),
          ],
          onError: (error, info) => renderErrors.push({ error, phase: info.phase }),
        },
      ).then((result) => result.pipe(res));
    });
  });

  afterAll(async () => {
    await site?.close();
  });

  afterEach(() => {
    expectPrototypeUntouched();
  });

  const get = async (path: string) => {
    refused.length = 0;
    renderErrors.length = 0;
    const response = await fetch(site.url + path, { headers: { 'user-agent': CHROME_UA } });
    return { status: response.status, html: await response.text() };
  };

  it('buffered page: data, state and the Apollo cache stay data', async () => {
    const { status, html } = await get('/?mode=buffer');
    expect(status).toBe(200);
    expect(renderErrors).toEqual([]);
    const doc = parseDocument(html);
    expect(findAll(doc, 'script').map(scriptKind).sort()).toEqual(['module', 'state', 'state']);
    expectNonces(doc);
    expectNoInjectedMarkup(doc);
    expectRenderedData(doc, ['shell', 'late']);

    // The state key itself cannot be hostile: setState refuses it and writes nothing.
    expect(refused.map((e) => (e as { code?: string }).code)).toEqual(['INVALID_KEY']);
    const keys = findAll(doc, 'script').map((s) => attr(s, 'data-kiln-state'));
    expect(keys.filter(Boolean).sort()).toEqual(['apollo', STATE_KEY]);

    const cache = browserCacheOf(stateOf(doc, 'apollo') as ApolloBufferedState);
    expectCacheTexts(cache, 'shell');
    expectCacheTexts(cache, 'late');
    expect((cache[`Page:${CORPUS[0]}`] as { title: string }).title).toBe(JOINED);
    expect((cache[`Page:${CORPUS[0]}`] as { description: string }).description).toBe(JOINED);
  });

  it("streamed page: Apollo's result scripts carry the data exactly, before the late boundary", async () => {
    const { status, html } = await get('/');
    expect(status).toBe(200);
    expect(renderErrors).toEqual([]);
    const doc = parseDocument(html);
    const kinds = findAll(doc, 'script').map(scriptKind);
    expect(kinds.filter((k) => k.startsWith('unexpected'))).toEqual([]);
    expect(kinds.filter((k) => k === 'module')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'state')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'apollo')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'redirect')).toHaveLength(0);
    expectNonces(doc);
    expectNoInjectedMarkup(doc);
    expectRenderedData(doc, ['shell', 'late']);
    expect(refused.map((e) => (e as { code?: string }).code)).toEqual(['INVALID_KEY']);

    const chunks = apolloChunks(doc);
    const results = chunks.flatMap((chunk) => (chunk.w ?? []).map((write) => write[2]));
    const page = results.find((r): r is { page: { title: string; texts: { text: string }[] } } =>
      Object.hasOwn(r as object, 'page'),
    );
    const late = results.find((r): r is { late: { texts: { text: string }[] } } =>
      Object.hasOwn(r as object, 'late'),
    );
    expect(page?.page.title).toBe(JOINED);
    expect(page?.page.texts.map((t) => t.text)).toEqual([...CORPUS]);
    expect(late?.late.texts.map((t) => t.text)).toEqual([...CORPUS]);
    // The late result reaches the browser before the boundary that shows it.
    const lateScript = html.indexOf('query HostileLate');
    expect(lateScript).toBeGreaterThan(0);
    expect(lateScript).toBeLessThan(html.indexOf('<section id="late"'));
  });

  it('a late redirect: a hostile target stays one escaped script and one refresh; javascript: is not written', async () => {
    const { status, html } = await get('/redirect');
    expect(status).toBe(200);
    expect(renderErrors.map((e) => (e.error as { code?: string }).code)).toEqual([
      'KILN_REDIRECT_AFTER_FIRST_BYTE',
    ]);
    const doc = parseDocument(html);
    const scripts = findAll(doc, 'script');
    const kinds = scripts.map(scriptKind);
    expect(kinds.filter((k) => k.startsWith('unexpected'))).toEqual([]);
    const redirects = scripts.filter((s) => scriptKind(s) === 'redirect');
    expect(redirects).toHaveLength(1);
    const literal = REDIRECT_SCRIPT.exec(textOf(redirects[0]!))![1]!;
    expect(JSON.parse(literal)).toBe(REDIRECT_LOCATION);
    expectNonces(doc);
    expectNoInjectedMarkup(doc);

    // Without scripting, the <noscript> content is markup: one refresh to the same target.
    const noScript = parseHtml(html, { scriptingEnabled: false }) as unknown as Element;
    expectNoInjectedMarkup(noScript);
    const refreshes = findAll(noScript, 'meta').filter((m) => attr(m, 'http-equiv') === 'refresh');
    expect(refreshes.map((m) => attr(m, 'content'))).toEqual([`0;url=${REDIRECT_LOCATION}`]);
    expect(findAll(noScript, 'script')).toHaveLength(scripts.length);

    // A javascript: target is reported and not written: a script would run it, where an HTTP
    // redirect to it runs nothing.
    const js = await get('/redirect-js');
    expect(js.status).toBe(200);
    expect(renderErrors.map((e) => (e.error as { code?: string }).code)).toEqual([
      'KILN_REDIRECT_AFTER_FIRST_BYTE',
    ]);
    expect(js.html).not.toContain('alert(15)');
    const jsDoc = parseHtml(js.html, { scriptingEnabled: false }) as unknown as Element;
    expect(findAll(jsDoc, 'script').map(scriptKind)).not.toContain('redirect');
    expect(findAll(jsDoc, 'meta').filter((m) => attr(m, 'http-equiv') === 'refresh')).toEqual([]);
  });

  it('a shell error with a hostile message: escaped in the error document', async () => {
    const { status, html } = await get('/crash');
    expect(status).toBe(500);
    expect(renderErrors.map((e) => [e.phase, (e.error as Error).message])).toEqual([
      ['shell', JOINED],
    ]);
    const doc = parseDocument(html);
    expect(findAll(doc, 'script')).toEqual([]);
    expect(findAll(doc, 'style')).toEqual([]);
    expectNoInjectedMarkup(doc);
    expect(findAll(doc, 'p').map(textOf)).toEqual([wellFormed(JOINED)]);
    const [stack] = findAll(doc, 'pre').map(textOf);
    expect(stack?.startsWith(`Error: ${wellFormed(JOINED)}\n    at Crash `)).toBe(true);
  });

  it('a JSON scalar with __proto__ keys pollutes nothing, streamed or buffered', async () => {
    const streamed = await get('/json');
    expect(streamed.status).toBe(200);
    expect(renderErrors).toEqual([]);
    const streamedDoc = parseDocument(streamed.html);
    expectNoInjectedMarkup(streamedDoc);
    const results = apolloChunks(streamedDoc).flatMap((c) => (c.w ?? []).map((w) => w[2]));
    expect(results).toHaveLength(1);
    const json = (results[0] as { probe: { json: Record<string, unknown> } }).probe.json;
    // Written exactly as the GraphQL server sent it: the keys are own data.
    expect(sameValue(json, JSON.parse(PROTO_JSON))).toBe(true);
    expect(Object.hasOwn(json, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);

    // Buffered, the result the hook read as fetched travels as a write, like the streamed one:
    // exactly as the GraphQL server sent it.
    const buffered = await get('/json?mode=buffer');
    expect(buffered.status).toBe(200);
    expect(buffered.html).toMatch(/<\/html>$/);
    const bufferedDoc = parseDocument(buffered.html);
    expectNoInjectedMarkup(bufferedDoc);
    expect(findAll(bufferedDoc, 'script').map(scriptKind)).toEqual(['module', 'state']);
    expect(renderErrors).toEqual([]);
    const written = (stateOf(bufferedDoc, 'apollo') as ApolloBufferedState).w ?? [];
    expect(written).toHaveLength(1);
    const bufferedJson = (written[0]![2] as { probe: { json: Record<string, unknown> } }).probe
      .json;
    expect(sameValue(bufferedJson, JSON.parse(PROTO_JSON))).toBe(true);
    expect(Object.hasOwn(bufferedJson, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(bufferedJson)).toBe(Object.prototype);

    // Once in Apollo's cache, the `__proto__` key becomes the object's prototype (its
    // DeepMerger assigns it); @kiln/serialize refuses such an object, so a buffered page whose
    // cache holds it is sent without the Apollo cache and the refusal is reported.
    renderErrors.length = 0;
    const eager = await get('/json?mode=buffer&direct=off');
    expect(eager.status).toBe(200);
    expect(eager.html).toMatch(/<\/html>$/);
    const eagerDoc = parseDocument(eager.html);
    expectNoInjectedMarkup(eagerDoc);
    expect(findAll(eagerDoc, 'script').map(scriptKind)).toEqual(['module']);
    expect(renderErrors).toHaveLength(1);
    const reported = renderErrors[0]!.error as { code?: string; cause?: { code?: string } };
    expect([reported.code, reported.cause?.code]).toEqual(['KILN_PLUGIN_ERROR', 'CLASS_INSTANCE']);
  });

  it('the streamed page hydrates in Chromium: no alert, no error, the data shown as text', async () => {
    const chromium: BrowserSession = await launchChromium();
    try {
      const context = await chromium.context({ userAgent: CHROME_UA });
      const alerts: string[] = [];
      await context.exposeFunction('__kilnAlert', (message: string) => alerts.push(message));
      await context.addInitScript(() => {
        const report = (window as unknown as { __kilnAlert: (m: string) => void }).__kilnAlert;
        for (const name of ['alert', 'confirm', 'prompt'] as const) {
          Object.defineProperty(window, name, { value: (m: unknown) => report(String(m)) });
        }
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') {
          problems.push(`${m.location().url || page.url()}: ${m.text()}`);
        }
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('dialog', (dialog) => {
        alerts.push(dialog.message());
        void dialog.dismiss();
      });
      browserGraphQL.length = 0;
      renderErrors.length = 0;

      // A page is done when it hydrated, its late boundary arrived, and nothing loads any more.
      const settled = async (): Promise<void> => {
        await page.waitForFunction(
          () =>
            document.documentElement.hasAttribute('data-hydrated') &&
            document.querySelectorAll('#late li').length > 0 &&
            document.getElementById('late-fallback') === null &&
            window.__hostileReport !== undefined,
        );
        await page.waitForLoadState('networkidle');
      };
      const response = await page.goto(`${site.url}/`);
      expect(response?.status()).toBe(200);
      await settled();

      expect(alerts).toEqual([]);
      // what the server reported, if anything, explains a boundary the browser had to render
      const serverSide = renderErrors.map((e) => `${e.phase}: ${String(e.error)}`);
      expect(problems, `server errors: ${JSON.stringify(serverSide)}`).toEqual([]);
      expect(serverSide).toEqual([]);
      expect(browserGraphQL).toEqual([]);
      expect(await page.evaluate(() => window.__hostileReport)).toEqual({
        stateEqual: true,
        protoKept: true,
      });
      expect(await page.title()).toBe(wellFormed(JOINED));
      expect(await page.locator('img, svg, iframe').count()).toBe(0);
      const items = (['shell', 'late'] as const).flatMap((list) =>
        CORPUS.map((text, i) => ({ id: `${list}-${i}`, shown: wellFormed(text) })),
      );
      const shown = await page.evaluate(
        ({ items, literals }) =>
          items.map(({ id }, i) => {
            const li = document.getElementById(id)!;
            // The browser's own serialization of the CSS string, for comparison.
            const reference = document.createElement('div');
            reference.style.setProperty('content', literals[i]!);
            return {
              text: li.querySelector('a')?.textContent,
              title: li.getAttribute('title'),
              after: getComputedStyle(li.querySelector('.note')!, '::after').content,
              before: getComputedStyle(li.querySelector('.before')!, '::before').content,
              css: reference.style.getPropertyValue('content'),
            };
          }),
        { items, literals: items.map((item) => cssString(item.shown)) },
      );
      for (const [i, item] of items.entries()) {
        const got = shown[i]!;
        expect(got.text, item.id).toBe(item.shown);
        expect(got.title, item.id).toBe(item.shown);
        expect(got.css, item.id).not.toBe('');
        expect(got.after, item.id).toBe(got.css);
        expect(got.before, item.id).toBe(got.css);
      }
      expect(await page.evaluate(() => 'polluted' in {} || 'x' in {})).toBe(false);

      // The late redirect goes where it says, with the hostile query intact, and runs nothing.
      await page.goto(`${site.url}/redirect`);
      await page.waitForURL((url) => url.pathname === '/next');
      // Leaving /next while it still streams would cut its response: the server then stops
      // its render and the browser renders the rest (React's error #419), which is not what is
      // tested here.
      await settled();
      const target = new URL(REDIRECT_TARGET, site.url);
      const landed = new URL(page.url());
      expect(landed.searchParams.get('to')).toBe(target.searchParams.get('to'));
      expect(landed.searchParams.get('q')).toBe(target.searchParams.get('q'));

      // A late redirect to a javascript: URL is not followed (an HTTP redirect would not run it).
      await page.goto(`${site.url}/redirect-js`);
      await page.waitForSelector('#late li');
      await page.waitForLoadState('networkidle');
      expect(new URL(page.url()).pathname).toBe('/redirect-js');
      expect(alerts).toEqual([]);
      const unexpected = renderErrors
        .filter((e) => (e.error as { code?: string }).code !== 'KILN_REDIRECT_AFTER_FIRST_BYTE')
        .map((e) => `${e.phase}: ${String(e.error)}`);
      expect(problems, `server errors: ${JSON.stringify(unexpected)}`).toEqual([]);
    } finally {
      await chromium.close();
    }
  });
});
