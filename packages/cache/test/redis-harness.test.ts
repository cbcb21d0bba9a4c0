/**
 * The Redis servers the cache tests start: a port chosen free can be taken before
 * redis-server binds it (another test's server, or the local port of a client connection, from
 * the same ephemeral range). The harness then starts redis-server on another port instead of
 * waiting for a server that has already exited.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { freePort, launchRedis, launchRedisOnFreePort } from '@kiln/test-utils';
import { afterEach, describe, expect, it } from 'vitest';

const servers: Server[] = [];
const stops: (() => void)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await Promise.all(
    servers
      .splice(0)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

/** A port held by a plain TCP server of this process, as another process would hold it. */
async function takenPort(): Promise<number> {
  // It hangs up on every connection, so the harness's PING gets no answer from it.
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

describe('starting redis-server for a test', () => {
  it('on a taken port, fails at once with what redis-server said', async () => {
    const port = await takenPort();
    await expect(launchRedis(port, ['--save', ''])).rejects.toThrow(
      new RegExp(`exited before accepting connections on port ${port}:[^]*(in use|bind)`, 'i'),
    );
  });

  it('starts on another port when the chosen one was taken before redis-server bound it', async () => {
    const taken = await takenPort();
    const chosen: number[] = [];
    const node = await launchRedisOnFreePort(() => ['--save', ''], {
      pickPort: async () => {
        const port = chosen.length === 0 ? taken : await freePort();
        chosen.push(port);
        return port;
      },
    });
    stops.push(() => node.child.kill('SIGKILL'));
    expect(chosen[0]).toBe(taken);
    expect(chosen).toHaveLength(2);
    expect(node.port).toBe(chosen[1]);
    expect(node.port).not.toBe(taken);
  });

  it('gives up after five taken ports and reports each attempt', async () => {
    const taken = await takenPort();
    await expect(
      launchRedisOnFreePort(() => ['--save', ''], { pickPort: async () => taken }),
    ).rejects.toThrow(/did not start in 5 attempts/);
  });
});
