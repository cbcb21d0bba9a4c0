import { listen, type RedisCluster, startRedisCluster } from '@kiln/test-utils';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RenderLock, redisLock } from '../src/lock';
import { pageCache } from '../src/page-cache';
import { redisStore } from '../src/redis-store';
import { appState, handler } from './fixtures/app';
import { get, type Instance, startInstance, stopInstance } from './instances';

let redis: RedisCluster;
beforeAll(async () => {
  redis = await startRedisCluster();
}, 120_000);
afterAll(async () => {
  await redis?.stop();
});

describe('pageCache with redisLock on a Redis Cluster, over separate server processes', () => {
  it('renders a cold page once for 50 concurrent requests spread over 3 processes', async () => {
    const env = { REDIS_CLUSTER_NODES: redis.addresses.join(','), KILN_LOCK: '1' };
    let instances: Instance[] = [];
    try {
      instances = await Promise.all([1, 2, 3].map(() => startInstance('lock:', env)));
      for (const path of ['/products/1', '/products/2']) {
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => get(instances[i % 3]!.url, path)),
        );
        const errors = instances.map((instance) => instance.errors()).join('');
        expect(
          responses.map((r) => r.status).every((s) => s === 200),
          errors,
        ).toBe(true);
        expect(responses.every((r) => r.body.includes(`<h1 id="path">${path}</h1>`))).toBe(true);
        expect(responses.filter((r) => r.cache === 'miss').length, errors).toBe(1);
        expect(responses.filter((r) => r.cache === 'hit').length).toBe(49);
      }
      const renders = await Promise.all(
        instances.map(async (instance) => Number((await get(instance.url, '/__renders')).body)),
      );
      expect(renders.reduce((a, b) => a + b, 0)).toBe(2);
    } finally {
      await Promise.all(instances.map(stopInstance));
    }
  }, 180_000);

  it('renders itself when the lock owner died without storing, once its lock expires', async () => {
    const client = createCluster({
      rootNodes: redis.addresses.map((address) => ({ url: `redis://${address}` })),
    });
    client.on('error', () => {});
    await client.connect();
    const real = redisLock(client, { prefix: 'dead:', ttlMs: 300, timeoutMs: 5_000 });
    // Another instance takes the lock right before this one and dies: nothing extends it.
    const lock: RenderLock = {
      ...real,
      ttlMs: real.ttlMs,
      pollMs: real.pollMs,
      async acquire(key) {
        await client.sendCommand(`dead:l:${key}`, false, [
          'SET',
          `dead:l:${key}`,
          'a dead owner',
          'NX',
          'PX',
          '300',
        ]);
        return real.acquire(key);
      },
      held: (key) => real.held(key),
    };
    const state = appState();
    const pages = pageCache({
      store: redisStore(client, { prefix: 'dead:', timeoutMs: 5_000 }),
      lock,
      ttl: 60_000,
    });
    const server = await listen(handler(pages, state));
    try {
      const response = await fetch(`${server.url}/products/5`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-kiln-cache')).toBe('miss');
      expect(await response.text()).toContain('<h1 id="path">/products/5</h1>');
      expect(state.renders).toBe(1);
      const again = await fetch(`${server.url}/products/5`);
      expect(again.headers.get('x-kiln-cache')).toBe('hit');
      await again.text();
    } finally {
      await server.close();
      client.destroy();
    }
  }, 60_000);

  it('refreshes a stale page from one instance only', async () => {
    const client = createCluster({
      rootNodes: redis.addresses.map((address) => ({ url: `redis://${address}` })),
    });
    client.on('error', () => {});
    await client.connect();
    let at = 1_000_000;
    const instances = [appState(), appState()].map((state) => ({
      state,
      pages: pageCache({
        store: redisStore(client, { prefix: 'swr:', timeoutMs: 5_000 }),
        lock: redisLock(client, { prefix: 'swr:', timeoutMs: 5_000 }),
        ttl: 1_000,
        staleWhileRevalidate: 60_000,
        now: () => at,
      }),
    }));
    const servers = await Promise.all(
      instances.map(({ pages, state }) => listen(handler(pages, state))),
    );
    const renders = () => instances.reduce((sum, { state }) => sum + state.renders, 0);
    const status = async (i: number) => (await get(servers[i]!.url, '/products/7')).cache;
    try {
      expect(await status(0)).toBe('miss');
      await instances[0]!.pages.idle();
      at += 2_000;
      const stale = await Promise.all([0, 1, 0, 1, 0, 1].map(status));
      // Until the one refresh is stored, each instance serves the stale page.
      expect(stale, JSON.stringify(stale)).toContain('stale');
      expect(
        stale.every((status) => status === 'stale' || status === 'hit'),
        JSON.stringify(stale),
      ).toBe(true);
      await Promise.all(instances.map(({ pages }) => pages.idle()));
      expect(renders()).toBe(2);
      expect([await status(0), await status(1)]).toEqual(['hit', 'hit']);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
      client.destroy();
    }
  }, 60_000);
});
