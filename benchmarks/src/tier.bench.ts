/**
 * @module
 * `pnpm bench tier`: how fast an invalidation on one instance reaches another instance's
 * memory tier (`tieredStore` of `@kiln/cache`). Two instances in this process, each with its
 * own Redis connections (a client and a `duplicate()` subscriber), share a Redis store; on a
 * single `redis-server` and on a Redis Cluster of 3 masters and 3 replicas (both started on
 * free loopback ports for the run and stopped after).
 *
 * Each sample: A stores a key, B reads it twice (the second read is checked to be a memory
 * hit), then A invalidates it, in turn by key, by prefix and by tag; the delay is the time from
 * A's call until B's memory tier no longer holds the entry (watched on every turn of the event
 * loop). 200 samples per backend (20 with `BENCH_QUICK=1`).
 */
import {
  type RedisClientLike,
  type RedisClusterLike,
  type RedisPublisherLike,
  type RedisSubscriberLike,
  redisStore,
  type TieredStore,
  tieredStore,
} from '@kiln/cache';
import { startRedis, startRedisCluster } from '@kiln/test-utils';
import { createClient, createCluster } from 'redis';
import { formatMs, quantile, quick, saveResults } from './harness';

const SAMPLES = quick ? 20 : 200;

type Client = (RedisClientLike | RedisClusterLike) &
  RedisSubscriberLike &
  RedisPublisherLike & { duplicate(): unknown; connect(): Promise<unknown>; destroy(): void };

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function until(check: () => boolean): Promise<void> {
  while (!check()) await turn();
}

/** Measures `SAMPLES` invalidation delays between two instances made by `connect`. */
async function measure(connect: () => Promise<Client>): Promise<number[]> {
  const clients: Client[] = [];
  const stores: TieredStore[] = [];
  // Errors while measuring void the figures; those of closing (an UNSUBSCRIBE cut short when
  // the clients are destroyed) do not.
  const errors: Error[] = [];
  let closing = false;
  const instance = async (): Promise<TieredStore> => {
    const client = await connect();
    const subscriber = client.duplicate() as Client;
    subscriber.on('error', () => {});
    await subscriber.connect();
    clients.push(client, subscriber);
    const store = tieredStore(redisStore(client, { prefix: 'bench:', timeoutMs: 10_000 }), {
      subscriber,
      publisher: client,
      channel: 'bench:invalidate',
      maxEntries: 1_000,
      onError: (error) => {
        if (!closing) errors.push(error);
      },
    });
    stores.push(store);
    await until(() => store.serving);
    return store;
  };
  try {
    const a = await instance();
    const b = await instance();
    const delays: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const key = `page:/p/${i}`;
      await a.set(key, { value: `page ${i}`, meta: {}, tags: [`product:${i}`] }, 60_000);
      await until(() => b.stats.invalidationsReceived === 2 * i + 1);
      await b.get(key);
      const hits = b.stats.memoryHits;
      await b.get(key);
      if (b.stats.memoryHits !== hits + 1 || b.memoryEntries !== 1) {
        throw new Error('[kiln/benchmarks] the entry is not in the memory tier of instance B');
      }
      const started = performance.now();
      const done =
        i % 3 === 0
          ? a.delete(key)
          : i % 3 === 1
            ? a.deletePrefix(key)
            : a.deleteTag(`product:${i}`);
      await until(() => b.memoryEntries === 0);
      delays.push(performance.now() - started);
      await done;
    }
    if (errors.length > 0) throw errors[0];
    return delays;
  } finally {
    closing = true;
    for (const store of stores) await store.close().catch(() => {});
    for (const client of clients) client.destroy();
  }
}

/** Runs the benchmark and returns its Markdown table. */
export default async function run(): Promise<string> {
  const rows: { name: string; delays: number[] }[] = [];
  const single = await startRedis();
  try {
    rows.push({
      name: 'single Redis',
      delays: await measure(async () => {
        const client = createClient({ url: single.url });
        await client.connect();
        return client as unknown as Client;
      }),
    });
  } finally {
    await single.stop();
  }
  const cluster = await startRedisCluster();
  try {
    rows.push({
      name: 'Redis Cluster (3 masters, 3 replicas)',
      delays: await measure(async () => {
        const client = createCluster({
          rootNodes: cluster.addresses.map((address) => ({ url: `redis://${address}` })),
        });
        client.on('error', () => {});
        await client.connect();
        return client as unknown as Client;
      }),
    });
  } finally {
    await cluster.stop();
  }
  saveResults(
    'tier',
    rows.map(({ name, delays }) => ({ name, delays })),
  );
  const lines = [
    '### Memory tier: invalidation delay from instance A to instance B',
    '',
    `| backend | samples | median ms | p90 ms | p99 ms | max ms |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      ({ name, delays }) =>
        `| ${name} | ${delays.length} | ${formatMs(quantile(delays, 0.5))} | ${formatMs(quantile(delays, 0.9))} | ${formatMs(quantile(delays, 0.99))} | ${formatMs(Math.max(...delays))} |`,
    ),
  ];
  return lines.join('\n');
}
