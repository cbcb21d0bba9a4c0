import {
  memoryStore,
  type PageCache,
  type PartialCache,
  pageCache,
  partialCache,
  type RedisClientLike,
  redisStore,
} from '@kiln/cache';
import { createClient } from 'redis';

/** A page cache (or, with `KILN_CACHE=partial`, a cache of shells) and what closes it. */
export interface ExamplePageCache {
  pages: PageCache | PartialCache;
  /** True for `KILN_CACHE=partial`: the shop must build its pages for partial pre-rendering. */
  partial: boolean;
  /** Closes the Redis connection, if any. */
  close(): Promise<void>;
}

/**
 * The page cache named by `KILN_CACHE`: `memory` (this process) or `redis` (shared through
 * `REDIS_URL`, default `redis://127.0.0.1:6379`); undefined when unset. Anonymous pages are
 * fresh for a minute, then served stale for ten while one render refreshes them.
 * `partial` stores shells instead (in memory, or in Redis when `REDIS_URL` is set), and serves
 * every visitor, signed in or not, the shell plus their own header and prices.
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
    return {
      pages: pageCache({ ...options, store: memoryStore() }),
      partial: false,
      close: async () => {},
    };
  }
  if (kind === 'partial' && !env.REDIS_URL) {
    return {
      pages: partialCache({ ...options, store: memoryStore() }),
      partial: true,
      close: async () => {},
    };
  }
  if (kind !== 'redis' && kind !== 'partial') {
    throw new Error(`[kiln/example] KILN_CACHE=${kind} is unknown; use memory, redis or partial`);
  }
  const client = createClient({ url: env.REDIS_URL || 'redis://127.0.0.1:6379' });
  client.on('error', (error: Error) => console.warn('[kiln/example] redis:', error.message));
  await client.connect();
  const store = redisStore(client as unknown as RedisClientLike, {
    prefix: 'kiln-example:',
  });
  return {
    pages:
      kind === 'partial' ? partialCache({ ...options, store }) : pageCache({ ...options, store }),
    partial: kind === 'partial',
    close: async () => {
      store.close();
      await client.close();
    },
  };
}
