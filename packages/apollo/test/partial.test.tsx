import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { gql, type TypedDocumentNode } from '@apollo/client';
import { useQuery, useSuspenseQuery } from '@apollo/client/react';
import { prerenderShell, renderToHtml, resumeShell, type Shell } from '@kiln/core';
import { createSchema, createYoga } from 'graphql-yoga';
import { type ReactNode, Suspense } from 'react';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { apollo, forwardHeaders } from '../src/index';
import type { StreamChunk } from '../src/shared/transport';
import { streamedChunks } from './fixtures/lifecycle';
import { httpClient } from './fixtures/render';

/*
 * A shop whose greeting and member prices depend on the visitor's `user` cookie, served by
 * graphql-yoga over loopback. The server logs every operation with the cookie it came with,
 * and can hold one visitor's answers back until the test releases them.
 */

interface Seen {
  operation: string;
  cookie: string | undefined;
}

const typeDefs = /* GraphQL */ `
  type Query {
    viewer: Viewer!
    products: [Product!]!
    memberPrices: [MemberPrice!]!
  }
  type Viewer { id: ID!, name: String! }
  type Product { id: ID!, name: String!, price: Int! }
  type MemberPrice { id: ID!, price: Int! }
`;

/** A visitor's personal price of product `i`: unique to the name, so it can be searched for. */
function memberPrice(name: string, i: number): number {
  let sum = 0;
  for (const c of name) sum += c.charCodeAt(0);
  return 7000 + sum * 10 + i;
}

const seen: Seen[] = [];
let held: { name: string; release: Promise<void> } | undefined;
let uri = '';
let close: () => Promise<void> = async () => {};

function userOf(cookie: string | undefined): string | undefined {
  const match = /(?:^|;\s*)user=([^;]+)/.exec(cookie ?? '');
  return match ? decodeURIComponent(match[1]!) : undefined;
}

beforeAll(async () => {
  const yoga = createYoga<{ cookie: string | undefined }>({
    logging: false,
    schema: createSchema<{ cookie: string | undefined }>({
      typeDefs,
      resolvers: {
        Query: {
          viewer: async (_: unknown, __: unknown, ctx) => {
            const name = userOf(ctx.cookie) ?? 'Guest';
            if (held && held.name === name) await held.release;
            return { id: `viewer-${name}`, name };
          },
          products: () =>
            [1, 2, 3].map((i) => ({ id: `p${i}`, name: `Lamp ${i}`, price: 100 * i })),
          memberPrices: async (_: unknown, __: unknown, ctx) => {
            const name = userOf(ctx.cookie);
            if (name && held && held.name === name) await held.release;
            return [1, 2, 3].map((i) => ({
              id: `mp${i}`,
              price: name ? memberPrice(name, i) : 100 * i,
            }));
          },
        },
      },
    }),
  });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const operation = (JSON.parse(body) as { operationName?: string }).operationName ?? '?';
      seen.push({ operation, cookie: req.headers.cookie });
    });
    void yoga(req, res, { cookie: req.headers.cookie });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
});
afterAll(() => close());
beforeEach(() => {
  seen.length = 0;
  held = undefined;
});

const VIEWER: TypedDocumentNode<{ viewer: { id: string; name: string } }> = gql`
  query Viewer {
    viewer {
      id
      name
    }
  }
`;
const PRODUCTS: TypedDocumentNode<{
  products: { id: string; name: string; price: number }[];
}> = gql`
  query Products {
    products {
      id
      name
      price
    }
  }
`;
const MEMBER_PRICES: TypedDocumentNode<{ memberPrices: { id: string; price: number }[] }> = gql`
  query MemberPrices {
    memberPrices {
      id
      price
    }
  }
`;

function Products(): ReactNode {
  const { data } = useQuery(PRODUCTS);
  return (
    <ul id="products">
      {data?.products.map((p) => (
        <li key={p.id}>
          {p.name}: {p.price}
        </li>
      ))}
    </ul>
  );
}

function Greeting(): ReactNode {
  const { data } = useSuspenseQuery(VIEWER);
  return <p id="greeting">Hello {data.viewer.name}</p>;
}

function MemberPrices(): ReactNode {
  const { data } = useQuery(MEMBER_PRICES);
  return (
    <ul id="member">
      {data?.memberPrices.map((p) => (
        <li key={p.id}>member {p.price}</li>
      ))}
    </ul>
  );
}

/** The shop: the products (public, the shell), then the greeting hole, then `children`. */
function Page({
  greeting = <Greeting />,
  children = (
    <Suspense fallback={<p id="member">Sign in for member prices</p>}>
      <MemberPrices />
    </Suspense>
  ),
}: {
  greeting?: ReactNode;
  children?: ReactNode;
}): ReactNode {
  return (
    <html lang="en">
      <head>
        <title>shop</title>
      </head>
      <body>
        <Products />
        <Suspense fallback={<p id="greeting">Welcome</p>}>{greeting}</Suspense>
        {children}
      </body>
    </html>
  );
}

/** Reads the shell's own query: in a hole, answered from the shell's data, not fetched. */
function Cheapest(): ReactNode {
  const { data } = useQuery(PRODUCTS);
  return <p id="cheapest">Cheapest: {data?.products[0]?.name}</p>;
}
/** The greeting, then (rendered only once the visitor is known) `Cheapest`. */
function GreetingThenCheapest(): ReactNode {
  const { data } = useSuspenseQuery(VIEWER);
  return (
    <>
      <p id="greeting">Hello {data.viewer.name}</p>
      <Cheapest />
    </>
  );
}
/** The shop with the greeting hole only (or `greeting` in its place). */
function GreetingPage({ greeting }: { greeting?: ReactNode }): ReactNode {
  return <Page greeting={greeting}>{null}</Page>;
}

const PAGE = 'http://shop.test/';

function plugin() {
  return apollo({
    makeClient: (ctx) => httpClient(uri, forwardHeaders(ctx)),
    personal: ({ operationName }) => operationName === 'Viewer' || operationName === 'MemberPrices',
  });
}

function visitor(name: string | undefined): Request {
  return new Request(PAGE, {
    headers: {
      'user-agent': 'Mozilla/5.0 Chrome/120',
      ...(name === undefined ? {} : { cookie: `user=${name}` }),
    },
  });
}

async function resume(shell: Shell, name: string | undefined): Promise<string> {
  const result = await resumeShell(shell, <Page />, {
    request: visitor(name),
    plugins: [plugin()],
    onError: (error) => {
      throw error;
    },
  });
  return result.text();
}

/** Every document number the page's chunks define, checked to mean one document only. */
function documents(chunks: StreamChunk[]): Map<number, string> {
  const docs = new Map<number, string>();
  for (const chunk of chunks) {
    for (const [id, text] of Object.entries(chunk.d ?? {})) {
      const known = docs.get(Number(id));
      if (known !== undefined && known !== text) throw new Error(`document ${id} defined twice`);
      docs.set(Number(id), text);
    }
  }
  return docs;
}

describe('@kiln/apollo in a partial pre-render', () => {
  test('the shell carries the public data; each resume fetches only its holes, with the visitor’s cookie, data before segment', async () => {
    const shell = await prerenderShell(<Page />, { url: PAGE, plugins: [plugin()] });
    expect(shell.kind).toBe('partial');
    expect([...shell.holes].sort()).toEqual(['Greeting', 'MemberPrices']);
    expect(seen).toEqual([{ operation: 'Products', cookie: undefined }]);
    const prelude = shell.prelude.join('');
    expect(prelude).toContain('Lamp 2<!-- -->: <!-- -->200');
    expect(streamedChunks(prelude).some((chunk) => JSON.stringify(chunk).includes('Lamp 3'))).toBe(
      true,
    );

    seen.length = 0;
    const html = await resume(JSON.parse(JSON.stringify(shell)) as Shell, 'Ada');
    expect(html).toContain('Hello <!-- -->Ada');
    expect(html).toContain(`member <!-- -->${memberPrice('Ada', 1)}`);
    // the path to the holes rendered from the shell's data: only the personal operations left
    expect(seen.map((s) => s.operation).sort()).toEqual(['MemberPrices', 'Viewer']);
    expect(seen.every((s) => s.cookie === 'user=Ada')).toBe(true);
    // each hole's data is in the page before the segment that shows it
    const chunks = streamedChunks(html);
    const viewerAt = html.indexOf('\\"Ada\\"');
    expect(viewerAt).toBeGreaterThan(html.indexOf('Welcome'));
    expect(viewerAt).toBeLessThan(html.indexOf('Hello <!-- -->Ada'));
    // document numbers continue those of the prelude: one number, one document
    const docs = documents(chunks);
    expect(new Set(docs.values()).size).toBe(docs.size);
    expect([...docs.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('safety: a shell built while a signed-in visitor’s request is in flight holds nobody’s data', async () => {
    let release!: () => void;
    held = { name: 'Alice', release: new Promise<void>((resolve) => (release = resolve)) };
    const alicePrice = String(memberPrice('Alice', 2));
    // Alice's full render is waiting for her answers while the shell is built
    const alice = renderToHtml(<Page />, { request: visitor('Alice'), plugins: [plugin()] });
    await expect
      .poll(() => seen.some((s) => s.operation === 'Viewer' && s.cookie === 'user=Alice'))
      .toBe(true);
    const shell = await prerenderShell(<Page />, { url: PAGE, plugins: [plugin()] });
    release();
    const aliceHtml = await (await alice).text();
    expect(aliceHtml).toContain('Hello <!-- -->Alice');
    expect(aliceHtml).toContain(alicePrice);

    const stored = JSON.stringify(shell);
    expect(stored).not.toContain('Alice');
    expect(stored).not.toContain(alicePrice);
    const [bob, guest] = await Promise.all([resume(shell, 'Bob'), resume(shell, undefined)]);
    for (const html of [bob, guest]) {
      expect(html).not.toContain('Alice');
      expect(html).not.toContain(alicePrice);
    }
    expect(bob).toContain('Hello <!-- -->Bob');
    expect(bob).toContain(`member <!-- -->${memberPrice('Bob', 2)}`);
    expect(guest).toContain('Hello <!-- -->Guest');
    expect(guest).not.toContain('Bob');
    // the pre-render sent no cookie and asked for nothing personal
    expect(seen.filter((s) => s.cookie === undefined).map((s) => s.operation)).toEqual(
      expect.arrayContaining(['Products']),
    );
  });
  test('a resume copies the shell’s data into the visitor’s cache only when something reads it', async () => {
    /** Resumes `shell` of `page` for Ada; resolves the page and how often her cache was restored. */
    const resumeCounting = async (shell: Shell, page: ReactNode, directResults?: boolean) => {
      let restores = 0;
      const result = await resumeShell(shell, page, {
        request: visitor('Ada'),
        plugins: [
          apollo({
            makeClient: (ctx) => {
              const client = httpClient(uri, forwardHeaders(ctx));
              const cache = client.cache as unknown as { restore(data: unknown): unknown };
              const restore = cache.restore;
              cache.restore = (data: unknown) => {
                restores++;
                return restore.call(cache, data);
              };
              return client;
            },
            personal: ({ operationName }) =>
              operationName === 'Viewer' || operationName === 'MemberPrices',
            ...(directResults === undefined ? {} : { directResults }),
          }),
        ],
        onError: (error) => {
          throw error;
        },
      });
      return { html: await result.text(), restores };
    };

    // the hole (a suspense query) reads only what was fetched for it: the shell's data stays
    // out of the visitor's cache
    const greeting = await prerenderShell(<GreetingPage />, { url: PAGE, plugins: [plugin()] });
    expect(greeting.holes).toEqual(['Greeting']);
    seen.length = 0;
    const lazy = await resumeCounting(greeting, <GreetingPage />);
    expect(lazy.restores).toBe(0);
    expect(lazy.html).toContain('Hello <!-- -->Ada');
    expect(seen.map((s) => s.operation)).toEqual(['Viewer']);
    // without direct results the shell's data is restored before anything renders, as Apollo would
    const eager = await resumeCounting(greeting, <GreetingPage />, false);
    expect(eager.restores).toBe(1);
    expect(eager.html).toContain('Hello <!-- -->Ada');

    // a useQuery hole reads the cache once before its data arrives, in a run React throws away
    // (Apollo's loading state): that read does not need the shell's data either
    const shell = await prerenderShell(<Page />, { url: PAGE, plugins: [plugin()] });
    seen.length = 0;
    const loading = await resumeCounting(shell, <Page />);
    expect(loading.restores).toBe(0);
    expect(loading.html).toContain(`member <!-- -->${memberPrice('Ada', 1)}`);
    expect(seen.map((s) => s.operation).sort()).toEqual(['MemberPrices', 'Viewer']);

    // a hole that reads the shell's own query gets the shell's data, restored once, and no request
    const reading = await prerenderShell(<GreetingPage greeting={<GreetingThenCheapest />} />, {
      url: PAGE,
      plugins: [plugin()],
    });
    expect(reading.holes).toEqual(['GreetingThenCheapest']);
    seen.length = 0;
    const read = await resumeCounting(
      reading,
      <GreetingPage greeting={<GreetingThenCheapest />} />,
    );
    expect(read.restores).toBe(1);
    expect(read.html).toContain('Cheapest: <!-- -->Lamp 1');
    expect(read.html).toContain('Hello <!-- -->Ada');
    expect(seen.map((s) => s.operation)).toEqual(['Viewer']);
  });

  test('a resume sends the stored prelude before it creates the visitor’s client', async () => {
    const shell = await prerenderShell(<Page />, { url: PAGE, plugins: [plugin()] });
    seen.length = 0;
    const events: string[] = [];
    const result = await resumeShell(shell, <Page />, {
      request: visitor('Ada'),
      plugins: [
        apollo({
          makeClient: (ctx) => {
            events.push('makeClient');
            return httpClient(uri, forwardHeaders(ctx));
          },
          personal: ({ operationName }) =>
            operationName === 'Viewer' || operationName === 'MemberPrices',
        }),
      ],
      onError: (error) => {
        throw error;
      },
    });
    let html = '';
    const done = new Promise<void>((resolve, reject) => {
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (html === '') events.push(`first byte: ${chunk.toString().slice(0, 15)}`);
          html += chunk.toString();
          callback();
        },
        final(callback) {
          resolve();
          callback();
        },
      });
      sink.on('error', reject);
      result.pipe(sink);
    });
    await done;
    // the client of the visitor is made once the prelude is out, and the holes still use it
    expect(events).toEqual(['first byte: <!DOCTYPE html>', 'makeClient']);
    expect(html).toContain('Hello <!-- -->Ada');
    expect(html).toContain(`member <!-- -->${memberPrice('Ada', 1)}`);
    expect(seen.map((s) => s.operation).sort()).toEqual(['MemberPrices', 'Viewer']);
    expect(seen.every((s) => s.cookie === 'user=Ada')).toBe(true);
  });
});
