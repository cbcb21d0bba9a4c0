/**
 * A finished response keeps nothing of its render alive: an idle keep-alive connection (which
 * Node keeps open for the next request, with a timer) must not hold the last streamed render,
 * its request, or anything the app put in it.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { listen } from '@kiln/test-utils';
import { afterAll, describe, expect, test } from 'vitest';
import { renderToHtml } from '../src/index';
import { Await, Boundary, Doc, sleep } from './helpers';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function get(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Keep-alive connections left idle, each after serving renders. */
const CONNECTIONS = 3;

describe('retention', () => {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  afterAll(() => agent.destroy());

  test.each(['stream', 'buffer'] as const)(
    'an idle keep-alive connection keeps no request or render alive (%s)',
    async (mode) => {
      const requests: WeakRef<IncomingMessage>[] = [];
      const payloads: WeakRef<object>[] = [];
      const server = await listen((req, res) => {
        requests.push(new WeakRef(req));
        // A large object only this render holds, through a boundary that resolves late.
        const payload = { rows: Array.from({ length: 1_000 }, (_, i) => `row ${i}`) };
        payloads.push(new WeakRef(payload));
        const late = sleep(20).then(() => payload.rows.length);
        renderToHtml(
          <Doc>
            <Boundary name="late">
              <Await promise={late}>{(n) => <p>{`rows ${n}`}</p>}</Await>
            </Boundary>
          </Doc>,
          { request: req, mode },
        ).then((result) => result.pipe(res));
      });
      server.server.keepAliveTimeout = 60_000;
      try {
        for (let round = 0; round < 2; round++) {
          const pages = await Promise.all(
            Array.from({ length: CONNECTIONS }, () => get(server.url, agent)),
          );
          for (const page of pages) expect(page).toContain('rows 1000');
        }
        // The connections stay open and idle, each with Node's keep-alive timer armed.
        expect(
          await new Promise((resolve) => server.server.getConnections((_, n) => resolve(n))),
        ).toBe(CONNECTIONS);
        await collectGarbage();
        const alive = requests.filter((ref) => ref.deref() !== undefined).length;
        const payloadsAlive = payloads.filter((ref) => ref.deref() !== undefined).length;
        // At most the very last render: React leaves the last value of a context (Kiln's
        // render context) on the context object until the next render. Never one per
        // connection, which is what an idle connection's timer would hold.
        expect(alive).toBeLessThanOrEqual(1);
        expect(payloadsAlive).toBeLessThanOrEqual(1);
        expect(requests).toHaveLength(2 * CONNECTIONS);
      } finally {
        await server.close();
      }
    },
  );
});
