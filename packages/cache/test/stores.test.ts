import { type RedisServer, startRedis } from '@kiln/test-utils';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnCacheError } from '../src/errors';
import { memoryStore } from '../src/memory-store';
import { redisStore } from '../src/redis-store';
import type { Store } from '../src/store';
import { entry, storeContract } from './store-contract';

describe('memoryStore', () => {
  storeContract('memory', () => memoryStore());

  it('expires entries by the clock it is given', async () => {
    let now = 1_000;
    const store = memoryStore({ now: () => now });
    await store.set('k', entry('v', ['t']), 5_000);
    now += 4_999;
    expect((await store.get('k'))?.value).toBe('v');
    now += 2;
    expect(await store.get('k')).toBeUndefined();
    expect(await store.deleteTag('t')).toBe(0);
  });

  it('never holds more entries than maxEntries, evicting the least recently used', async () => {
    const store = memoryStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) await store.set(key, entry(key, [key]), 60_000);
    await store.get('a');
    await store.set('d', entry('d', ['d']), 60_000);
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(await store.deleteTag('b')).toBe(0);
  });

  it('never holds more bytes than maxBytes and skips entries over maxEntryBytes', async () => {
    const store = memoryStore({ maxBytes: 50_000, maxEntryBytes: 20_000 });
    for (let i = 0; i < 20; i++) {
      await store.set(`k${i}`, entry(Buffer.alloc(10_000, i), ['all']), 60_000);
      expect(store.bytes).toBeLessThanOrEqual(50_000);
    }
    expect(store.size).toBe(4);
    expect(await store.get('k19')).toBeDefined();
    expect(await store.get('k0')).toBeUndefined();
    await store.set('huge', entry('x'.repeat(30_000), ['all']), 60_000);
    expect(await store.get('huge')).toBeUndefined();
    expect(await store.deleteTag('all')).toBe(4);
    expect(store.bytes).toBe(0);
  });

  it('rejects limits that are not positive', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe('redisStore', () => {
  let redis: RedisServer;
  const clients: { destroy(): void }[] = [];
  const connect = async () => {
    const client = createClient({
      url: redis.url,
      socket: { reconnectStrategy: (retries: number) => Math.min(50 + retries * 50, 300) },
    });
    client.on('error', () => {});
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await redis?.stop();
  });

  let n = 0;
  const stores: Store[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 4; i++)
      stores.push(redisStore(await connect(), { prefix: `c${i}:`, timeoutMs: 5000 }));
  });
  storeContract('redis', () => stores[n++]!);

  it('expires entries with their TTL and keeps a tag set alive as long as its longest entry', async () => {
    const client = await connect();
    const store = redisStore(client, { prefix: 'ttl:', timeoutMs: 5000 });
    await store.set('short', entry('s', ['t']), 60);
    await store.set('long', entry('l', ['t']), 60_000);
    await store.set('short2', entry('s', ['t']), 60);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await store.get('short')).toBeUndefined();
    const tagTtl = Number(await client.sendCommand(['PTTL', 'ttl:t:t']));
    expect(tagTtl).toBeGreaterThan(50_000);
    expect(await store.deleteTag('t')).toBe(1);
    expect(await store.get('long')).toBeUndefined();
  });

  it('does not store an entry over maxEntryBytes, drops the older one and reports it', async () => {
    const errors: Error[] = [];
    const store = redisStore(await connect(), {
      prefix: 'big:',
      timeoutMs: 5000,
      maxEntryBytes: 1024,
      onError: (error) => errors.push(error),
    });
    await store.set('page', entry('small', ['t']), 10_000);
    expect(await store.get('page')).toBeDefined();
    await store.set('page', entry('x'.repeat(2000), ['t']), 10_000);
    expect(await store.get('page')).toBeUndefined();
    expect(errors.map((error) => (error as KilnCacheError).code)).toEqual(['ENTRY_TOO_LARGE']);
    expect(() => redisStore({} as never, { maxEntryBytes: 0 })).toThrow(/maxEntryBytes/);
  });

  it('shares entries and invalidations between clients on one prefix', async () => {
    const a = redisStore(await connect(), { prefix: 'shared:', timeoutMs: 5000 });
    const b = redisStore(await connect(), { prefix: 'shared:', timeoutMs: 5000 });
    const other = redisStore(await connect(), { prefix: 'other:', timeoutMs: 5000 });
    await a.set('k', entry('from a', ['x']), 10_000);
    expect((await b.get('k'))?.value).toBe('from a');
    expect(await other.get('k')).toBeUndefined();
    expect(await b.deleteTag('x')).toBe(1);
    expect(await a.get('k')).toBeUndefined();
  });

  it('fails fast while Redis is down and works again when it returns', async () => {
    const errors: Error[] = [];
    const client = await connect();
    const store = redisStore(client, { prefix: 'down:', onError: (e) => errors.push(e) });
    await store.set('k', entry('v'), 60_000);
    await redis.stop();
    const started = performance.now();
    const failure = await store.get('k').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KilnCacheError);
    expect(['STORE_UNAVAILABLE', 'STORE_FAILED', 'STORE_TIMEOUT']).toContain(
      (failure as KilnCacheError).code,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect(store.set('k2', entry('v'), 1_000)).rejects.toBeInstanceOf(KilnCacheError);
    expect(store.healthy).toBe(false);
    expect(errors.length).toBeGreaterThan(0);

    await redis.start();
    await expect.poll(() => client.isReady, { timeout: 10_000 }).toBe(true);
    // A command that timed out while Redis was down starts the store's cooldown (reads and
    // writes skip Redis for `cooldownMs`); a restart can be quicker than that. Works again means
    // a write is taken once the cooldown is over, on the same client: asked until it is.
    await expect
      .poll(() =>
        store.set('k', entry('back'), 60_000).then(
          () => true,
          () => false,
        ),
      )
      .toBe(true);
    expect((await store.get('k'))?.value).toBe('back');
    expect(store.healthy).toBe(true);
    store.close();
  });

  it('does not take a blocked event loop (a long render) for a Redis timeout', async () => {
    const errors: unknown[] = [];
    const client = await connect();
    const store = redisStore(client, {
      prefix: 'busy:',
      timeoutMs: 100,
      onError: (e) => errors.push(e),
    });
    await store.set('k', entry('v'), 60_000);
    // The command is queued, then this process is busy far past timeoutMs before it can write
    // the command or read the answer, as during a long synchronous render.
    const pending = store.get('k');
    const busyUntil = Date.now() + 1_000;
    while (Date.now() < busyUntil) {}
    expect((await pending)?.value).toBe('v');
    expect(store.healthy).toBe(true);
    expect(errors).toEqual([]);
    store.close();
  });

  it('reads an answer that came while the process was busy before calling the wait a timeout', async () => {
    const errors: unknown[] = [];
    const client = await connect();
    const store = redisStore(client, {
      prefix: 'busy-answered:',
      timeoutMs: 200,
      onError: (e) => errors.push(e),
    });
    await store.set('k', entry('v'), 60_000);
    // The command is written (node-redis writes from setImmediate), Redis answers at once, but
    // this process is busy until just after the deadline: not late enough to count as a
    // blocked loop, and the answer is waiting unread in the socket when the timer fires.
    const started = performance.now();
    const pending = store.get('k');
    await new Promise((resolve) => setImmediate(resolve));
    while (performance.now() < started + 205) {}
    expect((await pending)?.value).toBe('v');
    expect(store.healthy).toBe(true);
    expect(errors).toEqual([]);
    store.close();
  });

  it('gives up on a hung Redis after timeoutMs, skips it during the cooldown, then uses it again', async () => {
    const errors: KilnCacheError[] = [];
    const client = await connect();
    const store = redisStore(client, {
      prefix: 'hung:',
      timeoutMs: 100,
      cooldownMs: 2_000,
      onError: (e) => errors.push(e as KilnCacheError),
    });
    await store.set('k', entry('v'), 60_000);
    redis.pause();
    try {
      await expect(store.get('k')).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
      expect(client.isReady).toBe(true);
      expect(store.healthy).toBe(false);
      await expect(store.get('k')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(errors.map((e) => e.code)).toContain('STORE_TIMEOUT');
    } finally {
      redis.resume();
    }
    await expect.poll(() => store.healthy, { timeout: 10_000 }).toBe(true);
    expect((await store.get('k'))?.value).toBe('v');
    store.close();
  });

  it('still sends deletions during the cooldown: an invalidation is never skipped', async () => {
    const client = await connect();
    const store = redisStore(client, { prefix: 'cool-del:', timeoutMs: 100, cooldownMs: 60_000 });
    await store.set('tagged', entry('v', ['t']), 60_000);
    await store.set('keyed', entry('v'), 60_000);
    await store.set('prefixed', entry('v'), 60_000);
    redis.pause();
    try {
      await expect(store.get('tagged')).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
      // Redis still does not answer: the deletion is sent and times out; it is not skipped.
      await expect(store.delete('absent')).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
    } finally {
      redis.resume();
    }
    // Redis answers again and the cooldown still runs: reads are skipped, deletions go through.
    await expect(store.get('tagged')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(store.healthy).toBe(false);
    expect(await store.deleteTag('t')).toBe(1);
    expect(await store.delete('keyed')).toBe(true);
    expect(await store.deletePrefix('pre')).toBe(1);
    const left = createClient({ url: redis.url });
    await left.connect();
    try {
      expect(await left.keys('cool-del:e:*')).toEqual([]);
    } finally {
      left.destroy();
    }
    store.close();
  });
});
