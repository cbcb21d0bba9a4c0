import {
  type RedisCluster,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '@kiln/test-utils';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KilnCacheError } from '../src/errors';
import {
  type RedisClientLike,
  type RedisClusterLike,
  type RedisStore,
  redisStore,
} from '../src/redis-store';
import {
  type RedisPublisherLike,
  type RedisSubscriberLike,
  type StoreWithTtl,
  type TieredStore,
  type TieredStoreOptions,
  tieredStore,
} from '../src/tiered-store';
import { entry, storeContract } from './store-contract';

/** What the tests use of a node-redis client or cluster client. */
type Client = (RedisClientLike | RedisClusterLike) & Connection;
interface Connection extends RedisSubscriberLike, RedisPublisherLike {
  duplicate(): unknown;
  connect(): Promise<unknown>;
  destroy(): void;
}

/** What each backend gives the shared tests: a way to connect a new client. */
interface Backend {
  connect(): Promise<Client>;
}

const POLL = { timeout: 15_000, interval: 20 };

/**
 * One instance of an app: its own Redis connection, its own subscriber, a shared Redis
 * store on `prefix` and a memory tier in front of it.
 */
async function instance(
  backend: Backend,
  prefix: string,
  extra: Partial<TieredStoreOptions> = {},
  wrap: (shared: RedisStore) => StoreWithTtl = (shared) => shared,
): Promise<{ store: TieredStore; client: Client; subscriber: Client; errors: Error[] }> {
  const client = await backend.connect();
  const subscriber = client.duplicate() as Client;
  subscriber.on('error', () => {});
  await subscriber.connect();
  const errors: Error[] = [];
  const store = tieredStore(wrap(redisStore(client, { prefix, timeoutMs: 10_000 })), {
    subscriber,
    publisher: client,
    channel: `${prefix}invalidate`,
    maxEntries: 100,
    onError: (error) => errors.push(error),
    ...extra,
  });
  // Also runs in hooks, where expect.poll is not available.
  await vi.waitFor(() => {
    if (!store.serving) throw new Error('the subscription is not confirmed yet');
  }, POLL);
  return { store, client, subscriber, errors };
}

/** Waits until `b` has received `count` messages from other instances. */
async function received(b: { store: TieredStore }, count: number): Promise<void> {
  await expect.poll(() => b.store.stats.invalidationsReceived, POLL).toBe(count);
}

/** The tests every backend runs: two instances in one process, each with its own clients. */
function coherence(backend: () => Backend): void {
  it('serves a second read from memory and drops it on every instance when A deletes the key', async () => {
    const a = await instance(backend(), 'key:');
    const b = await instance(backend(), 'key:');
    await a.store.set('k', entry('v1', ['t']), 60_000);
    await received(b, 1);
    expect((await b.store.get('k'))?.value).toBe('v1');
    expect((await b.store.get('k'))?.value).toBe('v1');
    expect(b.store.stats).toMatchObject({ sharedHits: 1, memoryHits: 1 });
    await a.store.delete('k');
    // B would answer 'v1' from memory for ever if the invalidation never arrived.
    await expect.poll(() => b.store.get('k'), POLL).toBeUndefined();
    expect(b.store.stats.invalidationsReceived).toBeGreaterThanOrEqual(1);
    // A ignores its own messages.
    expect(a.store.stats.invalidationsReceived).toBe(0);
  });

  it('drops entries by prefix and by tag on the other instance', async () => {
    const a = await instance(backend(), 'pt:');
    const b = await instance(backend(), 'pt:');
    await a.store.set('page:/p/1', entry('1', ['product:1']), 60_000);
    await a.store.set('page:/p/2', entry('2', ['product:2']), 60_000);
    await a.store.set('data:x', entry('x', ['product:1']), 60_000);
    await received(b, 3);
    for (const key of ['page:/p/1', 'page:/p/2', 'data:x', 'page:/p/1', 'page:/p/2', 'data:x']) {
      expect(await b.store.get(key)).toBeDefined();
    }
    expect(b.store.stats.memoryHits).toBe(3);
    expect(b.store.memoryEntries).toBe(3);

    expect(await a.store.deleteTag('product:1')).toBe(2);
    await expect.poll(() => b.store.memoryEntries, POLL).toBe(1);
    expect(await b.store.get('page:/p/1')).toBeUndefined();
    expect(await b.store.get('data:x')).toBeUndefined();

    expect(await a.store.deletePrefix('page:/p/')).toBe(1);
    await expect.poll(() => b.store.get('page:/p/2'), POLL).toBeUndefined();
    expect(b.store.memoryEntries).toBe(0);
  });

  it('a set on A drops the stale copy on B', async () => {
    const a = await instance(backend(), 'set:');
    const b = await instance(backend(), 'set:');
    await a.store.set('k', entry('old'), 60_000);
    await received(b, 1);
    await b.store.get('k');
    expect((await b.store.get('k'))?.value).toBe('old');
    expect(b.store.stats.memoryHits).toBe(1);
    await a.store.set('k', entry('new'), 60_000);
    await expect.poll(async () => (await b.store.get('k'))?.value, POLL).toBe('new');
  });

  it('does not keep a value read before an invalidation that arrived while the read was under way', async () => {
    const a = await instance(backend(), 'race:');
    // B's reads from Redis wait, after Redis answered, until the test opens the gate.
    let open = (): void => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const b = await instance(backend(), 'race:', {}, (shared) => ({
      ...shared,
      name: shared.name,
      async getWithTtl(key) {
        const found = await shared.getWithTtl(key);
        await gate;
        return found;
      },
    }));
    await a.store.set('k', entry('old'), 60_000);
    await received(b, 1);
    const read = b.store.get('k');
    await a.store.delete('k');
    await received(b, 2);
    open();
    // The read answers what Redis held when it was made, but does not keep it.
    expect((await read)?.value).toBe('old');
    expect(b.store.memoryEntries).toBe(0);
    expect(await b.store.get('k')).toBeUndefined();
  });

  it('never keeps a local copy longer than the shared TTL', async () => {
    const a = await instance(backend(), 'ttl:');
    const b = await instance(backend(), 'ttl:');
    await a.store.set('short', entry('s'), 1_000);
    await received(b, 1);
    expect((await b.store.get('short'))?.value).toBe('s');
    expect((await b.store.get('short'))?.value).toBe('s');
    expect(b.store.stats.memoryHits).toBe(1);
    // No invalidation is sent: only the local TTL can make B stop answering from memory.
    await expect.poll(() => b.store.get('short'), POLL).toBeUndefined();
    expect(b.store.stats.invalidationsReceived).toBe(1);
  });

  it('caps local copies at maxAgeMs and bounds them by maxEntries', async () => {
    const a = await instance(backend(), 'cap:');
    const b = await instance(backend(), 'cap:', { maxEntries: 2, maxAgeMs: 300 });
    for (const key of ['x', 'y', 'z']) await a.store.set(key, entry(key), 60_000);
    await received(b, 3);
    for (const key of ['x', 'y', 'z']) await b.store.get(key);
    expect(b.store.memoryEntries).toBe(2);
    // 'x', the least recently used, was evicted.
    expect((await b.store.get('x'))?.value).toBe('x');
    expect(b.store.stats).toMatchObject({ sharedHits: 4, memoryHits: 0 });
    // The shared entries live for a minute: only maxAgeMs makes 'z' come from Redis again.
    expect((await b.store.get('z'))?.value).toBe('z');
    expect(b.store.stats.memoryHits).toBe(1);
    await expect
      .poll(async () => {
        await b.store.get('z');
        return b.store.stats.sharedHits;
      }, POLL)
      .toBe(5);
  });

  it('ignores and reports garbage on the channel, and keeps working', async () => {
    const a = await instance(backend(), 'junk:');
    const b = await instance(backend(), 'junk:');
    const raw = await backend().connect();
    await a.store.set('k', entry('v'), 60_000);
    await received(b, 1);
    await b.store.get('k');
    const garbage = [
      'not json',
      '[]',
      'null',
      '{"v":1,"from":"x","op":"key"}',
      '{"v":2,"from":"x","op":"key","arg":"k"}',
      '{"v":1,"from":"x","op":"drop","arg":"k"}',
      '{"v":1,"from":"","op":"key","arg":"k"}',
      '{"v":1,"from":"x","op":"key","arg":"k","extra":true}',
      '{"v":1,"from":"x","op":"key","arg":{"toString":1}}',
      'x'.repeat(70_000),
    ];
    for (const message of garbage) await raw.publish('junk:invalidate', message);
    await expect
      .poll(
        () => b.errors.filter((e) => (e as KilnCacheError).code === 'INVALID_MESSAGE').length,
        POLL,
      )
      .toBe(garbage.length);
    expect(b.store.serving).toBe(true);
    expect((await b.store.get('k'))?.value).toBe('v');
    expect(b.store.stats.memoryHits).toBe(1);
    await a.store.delete('k');
    await expect.poll(() => b.store.get('k'), POLL).toBeUndefined();
  });
}

/** A and B on `prefix`, with the entry `k` in B's memory (read once from Redis, once from memory). */
async function primed(backend: Backend, prefix: string) {
  const a = await instance(backend, prefix);
  const b = await instance(backend, prefix);
  await a.store.set('k', entry('v'), 60_000);
  await received(b, 1);
  await b.store.get('k');
  await b.store.get('k');
  expect(b.store.stats.memoryHits).toBe(1);
  expect(b.store.memoryEntries).toBe(1);
  return { a, b };
}

/** Starts a server for a describe block, runs the contract and coherence tests, then `more`. */
function suite<S extends { stop(): Promise<void> }>(
  name: string,
  start: () => Promise<S>,
  create: (server: S) => Client,
  more: (backend: Backend, server: () => S) => void,
): void {
  describe(`tieredStore on ${name}`, () => {
    let server: S;
    const clients: Client[] = [];
    const stores: TieredStore[] = [];
    const backend: Backend = {
      async connect() {
        const client = create(server);
        client.on('error', () => {});
        await client.connect();
        clients.push(client);
        return client;
      },
    };
    beforeAll(async () => {
      server = await start();
      for (let i = 0; i < 4; i++) stores.push((await instance(backend, `c${i}:`)).store);
    }, 120_000);
    afterAll(async () => {
      for (const store of stores) await store.close().catch(() => {});
      for (const client of clients) client.destroy();
      await server?.stop();
    });

    let n = 0;
    storeContract(`tiered ${name}`, () => stores[n++]!);
    coherence(() => backend);
    more(backend, () => server);
  });
}

suite(
  'a single Redis',
  startRedis,
  (redis: RedisServer) =>
    createClient({
      url: redis.url,
      socket: { reconnectStrategy: (retries: number) => Math.min(50 + retries * 50, 300) },
    }),
  (backend, redis) => {
    it('rejects missing clients and bad options with INVALID_OPTION', async () => {
      const client = await backend.connect();
      const shared = redisStore(client, { prefix: 'opts:' });
      const bad: Partial<TieredStoreOptions>[] = [
        { subscriber: client }, // a single-node subscriber cannot publish
        { publisher: client },
        { subscriber: client, publisher: client, maxAgeMs: 0 },
        { subscriber: client, publisher: client, channel: '' },
        { subscriber: client, publisher: client, maxEntries: -1 },
      ];
      for (const options of bad) {
        expect(() =>
          tieredStore(shared, { maxEntries: 10, ...options } as TieredStoreOptions),
        ).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
      }
    });

    it('starts serving once a subscriber that was not connected yet connects', async () => {
      const client = await backend.connect();
      const subscriber = client.duplicate() as Client;
      subscriber.on('error', () => {});
      const errors: Error[] = [];
      const store = tieredStore(redisStore(client, { prefix: 'late:' }), {
        subscriber,
        publisher: client,
        channel: 'late:invalidate',
        maxEntries: 10,
        probeIntervalMs: 50,
        onError: (error) => errors.push(error),
      });
      expect(store.serving).toBe(false);
      await subscriber.connect();
      await expect.poll(() => store.serving, POLL).toBe(true);
      await store.close();
      expect(store.serving).toBe(false);
      // The app destroys its clients right after: the UNSUBSCRIBE that close() left in flight
      // is cut short (rejected in a microtask), which is the app's shutdown, not an error.
      subscriber.destroy();
      await new Promise((resolve) => setImmediate(resolve));
      expect(errors).toEqual([]);
    });

    it('stops serving from memory while Redis is down and comes back empty', async () => {
      const { a, b } = await primed(backend, 'down:');

      await redis().stop();
      await expect.poll(() => b.store.serving, POLL).toBe(false);
      // The copy in memory is not served: the read goes to the (unreachable) shared store.
      await expect(b.store.get('k')).rejects.toMatchObject({ name: 'KilnCacheError' });
      expect(b.store.stats.memoryHits).toBe(1);
      expect(b.store.memoryEntries).toBe(0);

      await redis().start();
      await expect.poll(() => b.store.serving, POLL).toBe(true);
      expect(b.store.memoryEntries).toBe(0);
      // Redis lost its data on restart; a fresh entry is shared and invalidated again.
      await expect.poll(() => a.store.serving, POLL).toBe(true);
      await a.store.set('k', entry('after'), 60_000);
      await received(b, 2);
      expect((await b.store.get('k'))?.value).toBe('after');
      expect((await b.store.get('k'))?.value).toBe('after');
      expect(b.store.stats.memoryHits).toBe(2);
      await a.store.delete('k');
      await expect.poll(() => b.store.get('k'), POLL).toBeUndefined();
    }, 60_000);
  },
);

suite(
  'a Redis Cluster (3 masters, 3 replicas)',
  () => startRedisCluster(),
  (redis: RedisCluster) =>
    createCluster({
      rootNodes: redis.addresses.map((address) => ({ url: `redis://${address}` })),
    }),
  (backend, cluster) => {
    it('publishes through a cluster subscriber when no publisher is given', async () => {
      const a = await instance(backend, 'nopub:');
      const b = await instance(backend, 'nopub:', { publisher: undefined });
      await b.store.set('k', entry('v'), 60_000);
      await received(a, 1);
      await a.store.get('k');
      await a.store.get('k');
      expect(a.store.stats.memoryHits).toBe(1);
      await b.store.delete('k');
      await expect.poll(() => a.store.get('k'), POLL).toBeUndefined();
    });

    it('stops serving from memory when its subscriber connection is destroyed', async () => {
      const { b } = await primed(backend, 'gone:');
      b.subscriber.destroy();
      await expect.poll(() => b.store.serving, POLL).toBe(false);
      expect(b.store.memoryEntries).toBe(0);
      // Reads still work, from the shared store only.
      expect((await b.store.get('k'))?.value).toBe('v');
      expect((await b.store.get('k'))?.value).toBe('v');
      expect(b.store.stats).toMatchObject({ memoryHits: 1, sharedHits: 3 });
    }, 60_000);

    // Runs last: it kills a node of the cluster.
    it('stops serving from memory when the node holding its subscription dies', async () => {
      const { b } = await primed(backend, 'failover:');
      const address = (b.subscriber as unknown as { pubSubNode?: { address: string } }).pubSubNode
        ?.address;
      const node = cluster().nodes.find((n) => address?.endsWith(`:${n.port}`));
      expect(node, `the node of the subscription (${address})`).toBeDefined();
      await node!.kill();
      await expect.poll(() => b.store.serving, POLL).toBe(false);
      expect(b.store.memoryEntries).toBe(0);
      // The cluster replaces the node (a replica is promoted if it was a master), node-redis
      // moves the subscription, and the tier serves again once its probe comes back.
      await expect.poll(async () => (await cluster().masters()).length, POLL).toBe(3);
      await cluster().waitHealthy();
      await expect.poll(() => b.store.serving, { timeout: 60_000 }).toBe(true);
      // node-redis may still be rediscovering the cluster's slots, and a command it sends then
      // can fail ("Disconnects client"); the entry must be there once reads go through.
      await expect
        .poll(async () => (await b.store.get('k').catch(() => undefined))?.value, POLL)
        .toBe('v');
    }, 120_000);
  },
);
