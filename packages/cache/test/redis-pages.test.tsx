import { listen, type RedisServer, startRedis } from '@kiln/test-utils';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageCache } from '../src/page-cache';
import { redisStore } from '../src/redis-store';
import { appState, handler } from './fixtures/app';
import { get, type Instance, startInstance, stopInstance } from './instances';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('pageCache on Redis', () => {
  it('shares pages and invalidations between two server processes', async () => {
    let a: Instance | undefined;
    let b: Instance | undefined;
    try {
      [a, b] = await Promise.all([
        startInstance('two:', { REDIS_URL: redis.url }),
        startInstance('two:', { REDIS_URL: redis.url }),
      ]);
      const watcher = createClient({ url: redis.url });
      await watcher.connect();
      const stored = async (key: string) => (await watcher.exists(`two:e:${key}`)) === 1;
      expect((await get(a.url, '/products/42')).cache).toBe('miss');
      expect((await get(a.url, '/products/43')).cache).toBe('miss');
      await expect
        .poll(() => stored('page:/products/42\nhost=shop.test\nscheme=http'), { timeout: 10_000 })
        .toBe(true);
      await expect
        .poll(() => stored('page:/products/43\nhost=shop.test\nscheme=http'), { timeout: 10_000 })
        .toBe(true);
      watcher.destroy();
      expect((await get(b.url, '/products/42')).cache, b.errors()).toBe('hit');
      expect((await get(b.url, '/products/43')).cache, b.errors()).toBe('hit');
      expect(await (await fetch(`${b.url}/__renders`)).text()).toBe('0');

      expect(await (await fetch(`${b.url}/__invalidate?tag=product:42`)).text()).toBe('1');
      expect((await get(a.url, '/products/42')).cache).toBe('miss');
      expect((await get(a.url, '/products/43')).cache).toBe('hit');
      expect(await (await fetch(`${a.url}/__renders`)).text()).toBe('3');

      expect(await (await fetch(`${a.url}/__invalidate?tag=all-pages`)).text()).toBe('2');
      expect((await get(b.url, '/products/43')).cache).toBe('miss');
      expect(await (await fetch(`${b.url}/__renders`)).text()).toBe('1');
    } finally {
      await Promise.all([stopInstance(a), stopInstance(b)]);
    }
  });

  it('renders without the cache while Redis is down and uses it again when it returns', async () => {
    const client = createClient({
      url: redis.url,
      socket: { reconnectStrategy: (retries: number) => Math.min(50 + retries * 50, 300) },
    });
    client.on('error', () => {});
    await client.connect();
    const errors: unknown[] = [];
    const store = redisStore(client, { prefix: 'down:', timeoutMs: 200, cooldownMs: 200 });
    const state = appState();
    const pages = pageCache({ store, ttl: 60_000, onError: (error) => errors.push(error) });
    const server = await listen(handler(pages, state));
    try {
      expect((await get(server.url, '/')).cache).toBe('miss');
      await pages.idle();
      expect((await get(server.url, '/')).cache).toBe('hit');

      await redis.stop();
      const during = await Promise.all(Array.from({ length: 10 }, () => get(server.url, '/')));
      expect(during.every((r) => r.status === 200 && r.body.includes('slow v1'))).toBe(true);
      const misses = during.filter((r) => r.cache === 'miss').length;
      expect(misses).toBeGreaterThan(0);
      expect(during.filter((r) => r.cache === 'hit').length).toBe(10 - misses);
      expect(state.renders).toBe(1 + misses);
      await pages.idle();
      expect(errors.length).toBeGreaterThan(0);

      await redis.start();
      await expect.poll(() => client.isReady, { timeout: 10_000 }).toBe(true);
      await expect
        .poll(
          async () => {
            await get(server.url, '/');
            await pages.idle();
            return (await get(server.url, '/')).cache;
          },
          { timeout: 10_000 },
        )
        .toBe('hit');
    } finally {
      await server.close();
      store.close();
      client.destroy();
    }
  });
});
