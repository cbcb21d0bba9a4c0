import { type RedisCluster, startRedisCluster } from '@kiln/test-utils';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisStore, redisStore } from '../src/redis-store';
import { entry, storeContract } from './store-contract';

describe('redisStore on a Redis Cluster (3 masters, 3 replicas)', () => {
  let redis: RedisCluster;
  const clients: { destroy(): void }[] = [];
  const connect = async () => {
    const client = createCluster({
      rootNodes: redis.addresses.map((address) => ({ url: `redis://${address}` })),
    });
    client.on('error', () => {});
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    redis = await startRedisCluster();
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await redis?.stop();
  });

  let n = 0;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    const client = await connect();
    for (let i = 0; i < 4; i++)
      stores.push(redisStore(client, { prefix: `c${i}:`, timeoutMs: 10_000 }));
  }, 60_000);
  storeContract('redis cluster', () => stores[n++]!);

  it('spreads entries over every master and invalidates a prefix and a tag across all of them', async () => {
    const client = await connect();
    const store = redisStore(client, { prefix: 'spread:', timeoutMs: 10_000 });
    const keys = Array.from({ length: 300 }, (_, i) => `page:/p/${i}`);
    await Promise.all(
      keys.map((key, i) => store.set(key, entry(key, [i % 2 ? 'odd' : 'even', 'all']), 60_000)),
    );
    await store.set('other:/x', entry('x', ['all']), 60_000);
    // Every master holds some of the entries: the operations below cross slots and nodes.
    const perMaster = await Promise.all(
      client.masters.map(async (master) =>
        Number(await (await client.nodeClient(master)).dbSize()),
      ),
    );
    expect(perMaster.length).toBe(3);
    for (const count of perMaster) expect(count).toBeGreaterThan(0);

    expect(await store.deleteTag('odd')).toBe(150);
    expect(await store.get('page:/p/1')).toBeUndefined();
    expect((await store.get('page:/p/2'))?.value).toBe('page:/p/2');
    expect(await store.deletePrefix('page:/p/')).toBe(150);
    expect(await store.get('page:/p/2')).toBeUndefined();
    expect((await store.get('other:/x'))?.value).toBe('x');
    expect(await store.deleteTag('all')).toBe(1);
  }, 60_000);

  it('keeps a tag index bounded by its live entries over 10,000 expiring entries', async () => {
    const client = await connect();
    const store = redisStore(client, { prefix: 'bounded:', timeoutMs: 10_000 });
    const index = 'bounded:t:bulk';
    const total = 10_000;
    for (let i = 0; i < total; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, j) => store.set(`k${i + j}`, entry('v', ['bulk']), 1_000)),
      );
    }
    // Wait (polling) until every entry written has expired.
    for (let attempt = 0; ; attempt++) {
      if ((await store.get(`k${total - 1}`)) === undefined) break;
      if (attempt > 1_000) throw new Error('entries never expired');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await store.set('fresh', entry('v', ['bulk']), 60_000);
    expect(Number(await client.sendCommand(index, true, ['ZCARD', index]))).toBe(1);
    const ttl = Number(await client.sendCommand(index, true, ['PTTL', index]));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await store.deleteTag('bulk')).toBe(1);
    expect(Number(await client.sendCommand(index, true, ['ZCARD', index]))).toBe(0);
  }, 180_000);

  it('lets a tag index expire with its last entry', async () => {
    const client = await connect();
    const store = redisStore(client, { prefix: 'gone:', timeoutMs: 10_000 });
    await store.set('a', entry('v', ['t']), 200);
    expect(Number(await client.sendCommand('gone:t:t', true, ['EXISTS', 'gone:t:t']))).toBe(1);
    for (let attempt = 0; ; attempt++) {
      if (Number(await client.sendCommand('gone:t:t', true, ['EXISTS', 'gone:t:t'])) === 0) break;
      if (attempt > 1_000) throw new Error('the tag index never expired');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await store.get('a')).toBeUndefined();
  }, 60_000);
});
