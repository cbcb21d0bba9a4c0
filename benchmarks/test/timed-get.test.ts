import { once } from 'node:events';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { timedGet } from '../src/timed-get';

const servers: Server[] = [];
const agents: Agent[] = [];

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/**
 * A server that answers `ok`, except where `hangUp(n)` (n: the request's number on its
 * connection, from 1) says to close the connection without answering. Counts requests and
 * connections.
 */
async function serve(hangUp: (n: number) => boolean) {
  const seen = { requests: 0, connections: 0 };
  const perSocket = new WeakMap<object, number>();
  const server = createServer((req, res) => {
    seen.requests++;
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (hangUp(n)) req.socket.destroy();
    else res.end('ok');
  });
  server.on('connection', () => seen.connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, target: { origin, agent } };
}

describe('timedGet', () => {
  it('sends a request again on a new connection when a reused one was closed under it', async () => {
    const { seen, target } = await serve((n) => n === 2);
    expect((await timedGet(target, undefined)).body).toBe('ok');
    const second = await timedGet(target, undefined);
    expect(second.status).toBe(200);
    expect(second.body).toBe('ok');
    expect(second.firstByteMs).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual({ requests: 3, connections: 2 });
  });

  it('reports a reset on a new connection instead of sending the request again', async () => {
    const { seen, target } = await serve(() => true);
    await expect(timedGet(target, undefined)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toEqual({ requests: 1, connections: 1 });
  });
});
