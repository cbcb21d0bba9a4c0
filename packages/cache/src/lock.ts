import { randomUUID } from 'node:crypto';
import { answerWithin } from './deadline';
import { KilnCacheError } from './errors';
import { isCluster, type RedisClientLike, type RedisClusterLike } from './redis-store';

/** A held lock: extended while held, released only by its owner. */
export interface RenderLease {
  /** Stops extending the lock and removes it if this lease still owns it. */
  release(): Promise<void>;
}

/**
 * A short lock per cache key shared by every instance, so that one instance renders a page
 * while the others wait for the stored result. Made by {@link redisLock}; give it to
 * `pageCache({ lock })`.
 */
export interface RenderLock {
  /** Takes the lock for `key`; resolves `undefined` when another owner holds it. Rejects when the lock store fails. */
  acquire(key: string): Promise<RenderLease | undefined>;
  /** Whether anyone holds the lock for `key` now. */
  held(key: string): Promise<boolean>;
  /** How long a lock lives without being extended (its owner died): the longest a waiter waits for a dead owner. */
  readonly ttlMs: number;
  /** How often a waiter looks for the stored result. */
  readonly pollMs: number;
}

/** Options of {@link redisLock}. */
export interface RedisLockOptions {
  /** Prefix of the lock keys. Default `kiln:`; use the store's prefix. */
  prefix?: string;
  /** Lifetime of a lock that is not extended. The owner extends it every third of this. Default 5 000 ms. */
  ttlMs?: number;
  /** Interval at which waiters look for the stored result. Default 25 ms. */
  pollMs?: number;
  /** Longest wait for one Redis command. Default 250 ms. */
  timeoutMs?: number;
  /** Called when extending or releasing a lock fails. */
  onError?: (error: Error) => void;
}

const EXTEND_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * A {@link RenderLock} in Redis (a single node or a cluster client): `SET key token NX PX`,
 * extended by its owner with a compare-and-`PEXPIRE` script while the render runs, and
 * released with a compare-and-delete script, so no one removes a lock it does not own. If
 * the owner dies, its lock expires after `ttlMs` and a waiter takes over.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { pageCache, redisLock, redisStore } from '@kiln/cache';
 *
 * const client = createClient({ url: process.env.REDIS_URL });
 * await client.connect();
 * const pages = pageCache({
 *   store: redisStore(client, { prefix: 'shop:' }),
 *   lock: redisLock(client, { prefix: 'shop:' }),
 *   ttl: 60_000,
 * });
 * ```
 */
export function redisLock(
  client: RedisClientLike | RedisClusterLike,
  options: RedisLockOptions = {},
): RenderLock {
  const prefix = options.prefix ?? 'kiln:';
  const ttlMs = options.ttlMs ?? 5_000;
  const pollMs = options.pollMs ?? 25;
  const timeoutMs = options.timeoutMs ?? 250;
  if (!(ttlMs >= 30) || !(pollMs > 0) || !(timeoutMs > 0)) {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'redisLock({ ttlMs, pollMs, timeoutMs }) must be positive milliseconds (ttlMs at least 30)',
    );
  }
  const lockKey = (key: string): string => `${prefix}l:${key}`;
  const send = async (key: string, args: string[]): Promise<unknown> => {
    if (!client.isReady) {
      throw new KilnCacheError(
        'STORE_UNAVAILABLE',
        'the Redis client for the lock is not connected',
      );
    }
    return answerWithin(
      timeoutMs,
      () => (isCluster(client) ? client.sendCommand(key, false, args) : client.sendCommand(args)),
      () =>
        new KilnCacheError(
          'STORE_TIMEOUT',
          `Redis did not answer ${args[0]} for a render lock within ${timeoutMs} ms; raise redisLock({ timeoutMs }) if Redis is slow but healthy`,
        ),
      // A reply error (CLUSTERDOWN while a master fails over, a script error) or a dropped
      // connection: named, with its cause, like the store's.
      (error) =>
        new KilnCacheError(
          'STORE_FAILED',
          `Redis ${args[0]} for a render lock failed: ${(error as Error)?.message ?? String(error)}; the request renders without the lock. Check the Redis server`,
          { cause: error },
        ),
    );
  };
  const report = (error: unknown): void => {
    options.onError?.(error instanceof Error ? error : new Error(String(error)));
  };
  return {
    ttlMs,
    pollMs,
    async acquire(key) {
      const name = lockKey(key);
      const token = randomUUID();
      const reply = await send(name, ['SET', name, token, 'NX', 'PX', String(ttlMs)]);
      if (reply !== 'OK') return undefined;
      const extend = setInterval(
        () => {
          send(name, ['EVAL', EXTEND_SCRIPT, '1', name, token, String(ttlMs)]).catch(report);
        },
        Math.max(10, Math.floor(ttlMs / 3)),
      );
      extend.unref();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          clearInterval(extend);
          await send(name, ['EVAL', RELEASE_SCRIPT, '1', name, token]).catch(report);
        },
      };
    },
    async held(key) {
      const name = lockKey(key);
      return Number(await send(name, ['EXISTS', name])) > 0;
    },
  };
}

/**
 * Takes `lock` for `key`, or waits while someone else holds it for `lookup` to find the
 * result. Resolves the lease (render, store, then release), the found result, or
 * `undefined` to render without the lock: the lock store failed, or the owner released or
 * lost its lock without storing a result.
 */
export async function acquireOrWait<T>(
  lock: RenderLock,
  key: string,
  lookup: () => Promise<T | undefined>,
  onError: (error: unknown) => void,
): Promise<{ lease: RenderLease } | { found: T; waitedMs: number } | undefined> {
  const started = performance.now();
  try {
    for (;;) {
      const lease = await lock.acquire(key);
      if (lease) {
        // The owner may have stored the result and released just before we took over.
        const found = await lookup();
        if (found !== undefined) {
          await lease.release();
          return { found, waitedMs: performance.now() - started };
        }
        return { lease };
      }
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, lock.pollMs));
        const found = await lookup();
        if (found !== undefined) return { found, waitedMs: performance.now() - started };
        // The owner finished without storing (a page that is not cacheable), or died and
        // its lock expired: render here, without queueing behind the lock again.
        if (!(await lock.held(key))) {
          // The owner stores before it releases: look once more after seeing no lock.
          const last = await lookup();
          return last === undefined
            ? undefined
            : { found: last, waitedMs: performance.now() - started };
        }
      }
    }
  } catch (error) {
    onError(error);
    return undefined;
  }
}
