import { listen, type RedisCluster, startRedisCluster } from '@kiln/test-utils';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnCacheError } from '../src/errors';
import { redisLock } from '../src/lock';
import { pageCache } from '../src/page-cache';
import { redisStore } from '../src/redis-store';
import { cachesAgain, expectAllAnswered } from './faults';
import { appState, handler } from './fixtures/app';
import { get } from './instances';

// Faults of a real Redis Cluster (3 masters, 3 replicas) under a page cache that keeps
// answering: a master killed while requests come in, and a master frozen (SIGSTOP). Each test
// waits on the cluster's own state (a replica promoted, every slot served), never on a sleep.

let redis: RedisCluster;
beforeAll(async () => {
  redis = await startRedisCluster();
}, 120_000);
afterAll(async () => {
  await redis?.stop();
});

interface Served {
  status: number;
  cache: string | null;
  path: string;
  body: string;
}

/** A page server on the cluster, with the render lock, and what its cache reported. */
async function startServer(prefix: string) {
  const client = createCluster({
    rootNodes: redis.addresses.map((address) => ({ url: `redis://${address}` })),
  });
  client.on('error', () => {});
  await client.connect();
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);
  const state = appState();
  const pages = pageCache({
    store: redisStore(client, { prefix, timeoutMs: 300, cooldownMs: 200, onError }),
    lock: redisLock(client, { prefix, timeoutMs: 300 }),
    ttl: 600_000,
    onError,
  });
  const server = await listen(handler(pages, state));
  return {
    url: server.url,
    errors,
    pages,
    async close() {
      await pages.idle();
      await server.close();
      client.destroy();
    },
  };
}

/** Requests `count` paths over and over, five at a time, until `stop()`; keeps every answer. */
function keepRequesting(url: string, paths: readonly string[]) {
  const served: Served[] = [];
  let stopped = false;
  const worker = async (offset: number) => {
    for (let i = offset; !stopped; i += 5) {
      const path = paths[i % paths.length]!;
      const answer = await get(url, path);
      served.push({ ...answer, path });
    }
  };
  const running = Promise.all([0, 1, 2, 3, 4].map(worker));
  return {
    served,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** Only the store's and the lock's own codes: no render failed, nothing else went wrong. */
function expectOnlyStoreErrors(errors: readonly unknown[]): void {
  for (const error of errors) {
    expect(error).toBeInstanceOf(KilnCacheError);
    expect(['STORE_TIMEOUT', 'STORE_UNAVAILABLE', 'STORE_FAILED']).toContain(
      (error as KilnCacheError).code,
    );
  }
}

const paths = (name: string, count = 30) =>
  Array.from({ length: count }, (_, i) => `/products/${name}-${i}`);

describe('pageCache on a Redis Cluster under faults', () => {
  it('keeps answering while a master is killed under load, and caches again once its replica is promoted', async () => {
    const server = await startServer('killed:');
    try {
      const during = paths('during');
      // Keys spread over every master (30 paths over 16384 slots and 3 masters).
      const load = keepRequesting(server.url, during);
      await expect.poll(() => load.served.length, { timeout: 60_000 }).toBeGreaterThan(30);
      const masters = await redis.masters();
      const victim = redis.nodes.find((node) => node.port === masters[0])!;
      await victim.kill();
      const servedAtKill = load.served.length;
      // A replica takes over the dead master's slots.
      await expect.poll(async () => (await redis.masters()).length, { timeout: 60_000 }).toBe(3);
      await redis.waitHealthy();
      // Requests kept coming during the failover and after it.
      await expect
        .poll(() => load.served.length, { timeout: 60_000 })
        .toBeGreaterThan(servedAtKill + 30);
      await load.stop();

      for (const answer of load.served) {
        expect(answer.status, answer.body.slice(0, 200)).toBe(200);
        expect(answer.body).toContain(`<h1 id="path">${answer.path}</h1>`);
      }
      // Some requests met the dead master (a timeout or a failure, then rendered anyway).
      expect(server.errors.length).toBeGreaterThan(0);
      expectOnlyStoreErrors(server.errors);
      // Once the cluster serves every slot again, new pages are stored and served from Redis.
      await cachesAgain(server.url, paths('after'), 60_000);
    } finally {
      await server.close();
    }
  }, 240_000);

  it('answers while a master is frozen, and caches again once it is back', async () => {
    await redis.waitHealthy();
    const server = await startServer('frozen:');
    const masters = await redis.masters();
    const frozen = redis.nodes.find((node) => node.port === masters[0])!;
    const keys = paths('frozen');
    try {
      frozen.pause();
      try {
        // Every request is answered: the keys of the frozen master time out and render.
        await expectAllAnswered(server.url, keys);
        expect(server.errors.some((e) => (e as KilnCacheError).code === 'STORE_TIMEOUT')).toBe(
          true,
        );
        expectOnlyStoreErrors(server.errors);
      } finally {
        frozen.resume();
      }
      // Back (as a master, or as the replica of the one promoted meanwhile).
      await expect.poll(async () => (await redis.masters()).length, { timeout: 60_000 }).toBe(3);
      await redis.waitHealthy();
      await cachesAgain(server.url, paths('thawed'), 60_000);
    } finally {
      await server.close();
    }
  }, 240_000);
});
