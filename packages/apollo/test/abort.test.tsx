import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useQuery, useSuspenseQuery } from '@apollo/client/react';
import { type ReactNode, Suspense } from 'react';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Hang, SLOW, STAMP } from './fixtures/app';
import { startGraphQLServer, type TestGraphQLServer } from './fixtures/graphql-server';
import { textById } from './fixtures/lifecycle';
import { render } from './fixtures/render';

let gql: TestGraphQLServer;
/** A GraphQL endpoint that accepts every request and never answers. */
let silent: Server;
let silentUrl: string;

beforeAll(async () => {
  gql = await startGraphQLServer();
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await gql.close();
  silent.closeAllConnections();
  await new Promise((resolve) => silent.close(resolve));
});
beforeEach(() => {
  gql.reset();
});

function SuspenseStamp(): ReactNode {
  const { data } = useSuspenseQuery(STAMP);
  return <p id="late-stamp">stamp {data.stamp}</p>;
}

/** Renders a boundary with a suspense hook only once its slow query gave up (loading). */
function AfterAbort(): ReactNode {
  const { loading } = useQuery(SLOW, { variables: { ms: 5_000 } });
  if (!loading) return <p id="late-stamp">not aborted</p>;
  return (
    <Suspense fallback={<p id="late-stamp">waiting</p>}>
      <SuspenseStamp />
    </Suspense>
  );
}

/**
 * An abort or timeout while a `useQuery` outside any Suspense boundary waits gives the page
 * with that query's loading state, as Apollo's own SSR does, instead of the 500 error document.
 */
describe('abort and timeout while a useQuery outside any boundary is pending', () => {
  it.each(['stream', 'buffer'] as const)('timeoutMs with the loading UI (%s)', async (mode) => {
    const out = await render(gql.url, <Hang ms={5_000} />, { mode, timeoutMs: 150 });
    expect(out.status).toBe(200);
    expect(textById(out.html, 'slow-query')).toBe('loading slow');
    // Stamp may or may not have answered within the timeout on a busy machine: either its data
    // or its loading state, never the error document
    expect(['stamp 1', 'stamp ']).toContain(textById(out.html, 'hang-stamp'));
    expect(out.html).toContain('</html>');
    // the timeout is reported once, as a timeout
    const timeouts = out.errors.filter(
      (e) => (e.error as { code?: string }).code === 'KILN_TIMEOUT',
    );
    expect(timeouts.map((e) => e.info.phase)).toEqual(['timeout']);
  });

  it.each(['stream', 'buffer'] as const)(
    'a GraphQL server that never answers gives a usable page (%s)',
    async (mode) => {
      const out = await render(silentUrl, <Hang ms={1} />, { mode, timeoutMs: 150 });
      expect(out.status).toBe(200);
      expect(textById(out.html, 'slow-query')).toBe('loading slow');
      expect(textById(out.html, 'hang-stamp')).toBe('stamp ');
      expect(out.html).toContain('</html>');
      // nothing that failed because of the abort is reported as a query error
      expect(out.apollo.errors).toBe(0);
    },
  );

  it('an abort through the signal gives the page with the loading UI', async () => {
    const controller = new AbortController();
    const pending = render(gql.url, <Hang ms={5_000} />, {
      mode: 'stream',
      signal: controller.signal,
    });
    await expect.poll(() => gql.log.operations.includes('Slow')).toBe(true);
    controller.abort(new Error('visitor left'));
    const out = await pending;
    expect(out.status).toBe(200);
    expect(textById(out.html, 'slow-query')).toBe('loading slow');
    expect(textById(out.html, 'hang-stamp')).toBe('stamp 1');
    // the request in flight was cancelled: the GraphQL server saw its connection close
    await expect.poll(() => gql.log.aborted).toContain('Slow');
  });

  it.each(['stream', 'buffer'] as const)(
    'after the abort no new request leaves the server; a suspense hook rendered then is left to the browser (%s)',
    async (mode) => {
      const out = await render(gql.url, <AfterAbort />, { mode, timeoutMs: 150 });
      expect(out.status).toBe(200);
      expect(textById(out.html, 'late-stamp')).toBe('waiting');
      expect(gql.log.operations).toEqual(['Slow']);
      expect(out.errors.map((e) => (e.error as { code?: string }).code)).toEqual(['KILN_TIMEOUT']);
    },
  );
});
