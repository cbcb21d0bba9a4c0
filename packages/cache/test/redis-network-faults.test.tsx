import {
  listen,
  type RedisServer,
  startRedis,
  startTcpProxy,
  type TcpProxy,
} from '@kiln/test-utils';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnCacheError } from '../src/errors';
import { pageCache } from '../src/page-cache';
import { redisStore } from '../src/redis-store';
import { cachesAgain, expectAllAnswered } from './faults';
import { appState, handler } from './fixtures/app';

// The network between the page cache and Redis breaks, through a TCP proxy: a partition
// (nothing delivered, nothing reset: only the store's timeout can tell) and a reset (every
// connection refused). Every request is answered; once the network is back the cache is too.

let redis: RedisServer;
let proxy: TcpProxy;
let server: Awaited<ReturnType<typeof listen>>;
const errors: unknown[] = [];
let client: ReturnType<typeof createClient>;

beforeAll(async () => {
  redis = await startRedis();
  proxy = await startTcpProxy(Number(new URL(redis.url).port));
  client = createClient({
    url: `redis://${proxy.address}`,
    // Reconnect at once, then every 50 ms: the test waits on the cache working again.
    socket: { reconnectStrategy: () => 50 },
  });
  client.on('error', () => {});
  await client.connect();
  const onError = (error: unknown) => errors.push(error);
  const pages = pageCache({
    store: redisStore(client, { prefix: 'net:', timeoutMs: 200, cooldownMs: 200, onError }),
    ttl: 600_000,
    onError,
  });
  server = await listen(handler(pages, appState()));
}, 60_000);

afterAll(async () => {
  await server?.close();
  client?.destroy();
  await proxy?.close();
  await redis?.stop();
});

const codes = () => errors.map((error) => (error as KilnCacheError).code);
const paths = (name: string) => Array.from({ length: 10 }, (_, i) => `/products/${name}-${i}`);

describe('pageCache on Redis through a broken network', () => {
  it('answers through a partition (timeouts only), and caches again once it heals', async () => {
    await cachesAgain(server.url, ['/products/before'], 30_000);
    errors.length = 0;
    proxy.blackhole();
    try {
      await expectAllAnswered(server.url, [...paths('partition'), '/products/before']);
      expect(codes()).toContain('STORE_TIMEOUT');
      for (const error of errors) expect(error).toBeInstanceOf(KilnCacheError);
    } finally {
      proxy.restore();
    }
    await cachesAgain(server.url, ['/products/before', ...paths('healed')], 30_000);
  }, 120_000);

  it('answers while every connection is reset, and caches again once Redis is reachable', async () => {
    errors.length = 0;
    proxy.cut();
    try {
      await expectAllAnswered(server.url, paths('reset'));
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(error).toBeInstanceOf(KilnCacheError);
      expect(client.isReady).toBe(false);
    } finally {
      proxy.restore();
    }
    await expect.poll(() => client.isReady, { timeout: 30_000 }).toBe(true);
    await cachesAgain(server.url, ['/products/before', ...paths('reconnected')], 30_000);
  }, 120_000);
});
