import {
  memoryStore,
  type PageCache,
  pageCache,
  type RedisClientLike,
  redisStore,
} from '@kiln/cache';
import { createClient } from 'redis';

/** A page cache and what closes it. */
export interface ExamplePageCache {
  pages: PageCache;
  /** Closes the Redis connection, if any. */
  close(): Promise<void>;
}

/**
 * The page cache named by `KILN_CACHE`: `memory` (this process) or `redis` (shared through
 * `REDIS_URL`, default `redis://127.0.0.1:6379`); undefined when unset. Anonymous pages are
 * fresh for a minute, then served stale for ten while one render refreshes them.
 *
 * @example
 * const cache = await pageCacheFromEnvironment(process.env);
 * await startServer({ port: 3000, pages: cache?.pages });
 */
export async function pageCacheFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Promise<ExamplePageCache | undefined> {
  const kind = env.KILN_CACHE;
  if (!kind) return undefined;
  const options = { ttl: 60_000, staleWhileRevalidate: 600_000, vary: ['accept-language'] };
  if (kind === 'memory') {
    return { pages: pageCache({ ...options, store: memoryStore() }), close: async () => {} };
  }
  if (kind !== 'redis') {
    throw new Error(`[kiln/example] KILN_CACHE=${kind} is unknown; use memory or redis`);
  }
  const client = createClient({ url: env.REDIS_URL || 'redis://127.0.0.1:6379' });
  client.on('error', (error: Error) => console.warn('[kiln/example] redis:', error.message));
  await client.connect();
  const store = redisStore(client as unknown as RedisClientLike, { prefix: 'kiln-example:' });
  return {
    pages: pageCache({ ...options, store }),
    close: async () => {
      store.close();
      await client.close();
    },
  };
}
