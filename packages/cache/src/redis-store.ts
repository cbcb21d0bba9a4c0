import { KilnCacheError } from './errors';
import type { CacheEntry, JsonValue, Store } from './store';

/**
 * The part of a node-redis client (`createClient()` from `redis` 5 or 6) that
 * {@link redisStore} uses. `@kiln/cache` never imports `redis` itself: the app creates,
 * configures and connects the client.
 */
export interface RedisClientLike {
  /** True while the client is connected and ready for commands. */
  readonly isReady: boolean;
  /** Sends one raw command. */
  sendCommand(
    args: ReadonlyArray<string | Buffer>,
    options?: { typeMapping?: { [type: number]: unknown } },
  ): Promise<unknown>;
  /** Adds an event listener (the store listens to `error`, so an outage never crashes the process). */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Removes an event listener. */
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** Prefix of every Redis key the store writes. Default `kiln:`. Give each app its own. */
  prefix?: string;
  /** Longest wait for one Redis command before the operation fails. Default 250 ms. */
  timeoutMs?: number;
  /**
   * After a timeout, how long every operation fails at once instead of waiting again, so a
   * hung Redis costs requests nothing. Default 1 000 ms.
   */
  cooldownMs?: number;
  /**
   * Largest single entry in bytes (value, metadata and tags as stored); a bigger entry is not
   * stored (an older entry under its key is removed) and `onError` gets an
   * `ENTRY_TOO_LARGE` error. Default 8 MiB.
   */
  maxEntryBytes?: number;
  /** Called with client errors, failed operations (Redis down, timeouts) and entries too large to store. */
  onError?: (error: Error) => void;
}

/** The Redis store, with its state for health checks. */
export interface RedisStore extends Store {
  /** False while the client is disconnected or the store is cooling down after a timeout. */
  readonly healthy: boolean;
  /** Stops listening to the client's errors. The client itself stays open (the app owns it). */
  close(): void;
}

const BLOB_STRING = 36;
const BUFFER_REPLIES = { typeMapping: { [BLOB_STRING]: Buffer } };
const VERSION = 1;
const KIND_BUFFER = 0;
const KIND_STRING = 1;
const HEADER_BYTES = 6;

const SET_SCRIPT = `
redis.call('UNLINK', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  local left = redis.call('PTTL', KEYS[i])
  if left >= 0 and left < ttl or left == -1 then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1`;

const DELETE_TAG_SCRIPT = `
local keys = redis.call('SMEMBERS', KEYS[1])
local needle = '\\n' .. ARGV[1] .. '\\n'
local removed = 0
for i = 1, #keys do
  local tags = redis.call('HGET', keys[i], 't')
  if tags and string.find('\\n' .. tags .. '\\n', needle, 1, true) then
    removed = removed + redis.call('UNLINK', keys[i])
  end
end
redis.call('UNLINK', KEYS[1])
return removed`;

/**
 * A store in Redis, shared by every server instance that uses the same Redis and `prefix`:
 * a page rendered by one instance is served by all, and `deleteTag`/`deletePrefix` remove
 * entries for all of them.
 *
 * Pass a client you created with `createClient` from `redis` (5 or 6) and connected; the
 * store only sends commands through it, so `@kiln/cache` works without `redis` installed
 * when this store is not used. The store is built to survive Redis going away: while the
 * client is not ready every operation fails at once, each command waits at most
 * `timeoutMs`, and after a timeout the store fails fast for `cooldownMs`. The page and data
 * caches treat a failed operation as a miss, so requests are rendered as if there were no
 * cache, and use Redis again as soon as the client has reconnected.
 *
 * Entries are one Redis hash each (`<prefix>e:<key>`, expiring with the entry); tags are
 * Redis sets (`<prefix>t:<tag>`) updated in the same script, and an entry is only removed by
 * a tag it still carries. Use a single Redis node (or a
 * primary): tag invalidation touches keys that are not known in advance, which Redis
 * Cluster does not allow.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { pageCache, redisStore } from '@kiln/cache';
 *
 * const client = createClient({ url: process.env.REDIS_URL });
 * await client.connect();
 * const pages = pageCache({ store: redisStore(client, { prefix: 'shop:' }), ttl: 60_000 });
 * ```
 */
export function redisStore(client: RedisClientLike, options: RedisStoreOptions = {}): RedisStore {
  const prefix = options.prefix ?? 'kiln:';
  const timeoutMs = options.timeoutMs ?? 250;
  const cooldownMs = options.cooldownMs ?? 1_000;
  if (!(timeoutMs > 0) || !(cooldownMs >= 0)) {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'redisStore({ timeoutMs, cooldownMs }) must be positive numbers; pass milliseconds',
    );
  }
  const maxEntryBytes = options.maxEntryBytes ?? 8 * 1024 * 1024;
  if (!(maxEntryBytes > 0)) {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'redisStore({ maxEntryBytes }) must be a positive number of bytes',
    );
  }
  const onError = options.onError;
  const entryKey = (key: string): string => `${prefix}e:${key}`;
  const tagKey = (tag: string): string => `${prefix}t:${tag}`;
  let coolingUntil = 0;

  const clientError = (error: Error): void => {
    onError?.(error);
  };
  client.on('error', clientError);

  const command = async (
    args: ReadonlyArray<string | Buffer>,
    buffers: boolean,
  ): Promise<unknown> => {
    if (!client.isReady) {
      throw report(
        new KilnCacheError(
          'STORE_UNAVAILABLE',
          'the Redis client is not connected; requests are served without the cache until it reconnects',
        ),
      );
    }
    if (Date.now() < coolingUntil) {
      throw new KilnCacheError(
        'STORE_UNAVAILABLE',
        `Redis timed out recently; the cache is skipped for up to ${cooldownMs} ms`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        coolingUntil = Date.now() + cooldownMs;
        reject(
          report(
            new KilnCacheError(
              'STORE_TIMEOUT',
              `Redis did not answer ${String(args[0])} within ${timeoutMs} ms; raise redisStore({ timeoutMs }) if Redis is slow but healthy`,
            ),
          ),
        );
      }, timeoutMs);
    });
    const sent = client.sendCommand(args, buffers ? BUFFER_REPLIES : undefined);
    try {
      return await Promise.race([sent, timeout]);
    } catch (error) {
      if (error instanceof KilnCacheError) throw error;
      throw report(
        new KilnCacheError(
          'STORE_FAILED',
          `Redis ${String(args[0])} failed: ${(error as Error)?.message ?? String(error)}; check the Redis server`,
          { cause: error },
        ),
      );
    } finally {
      clearTimeout(timer);
      sent.catch(() => {});
    }
  };

  function report(error: KilnCacheError): KilnCacheError {
    onError?.(error);
    return error;
  }

  return {
    name: 'redis',
    get healthy() {
      return client.isReady && Date.now() >= coolingUntil;
    },
    close() {
      client.off('error', clientError);
    },
    async get(key) {
      const reply = await command(['HGET', entryKey(key), 'v'], true);
      if (reply === null || reply === undefined) return undefined;
      if (!Buffer.isBuffer(reply)) throw corrupt(key);
      return decode(reply, key);
    },
    async set(key, entry, ttlMs) {
      const ttl = Math.ceil(ttlMs);
      if (!(ttl > 0)) {
        await command(['UNLINK', entryKey(key)], false);
        return;
      }
      const tags = [...new Set(entry.tags)];
      for (const tag of tags) {
        if (tag.includes('\n')) {
          throw new KilnCacheError(
            'INVALID_OPTION',
            `the tag ${JSON.stringify(tag)} contains a line break; use tags without line breaks`,
          );
        }
      }
      const encoded = encode(entry);
      if (encoded.length > maxEntryBytes) {
        await command(['UNLINK', entryKey(key)], false);
        report(
          new KilnCacheError(
            'ENTRY_TOO_LARGE',
            `the entry "${key}" is ${encoded.length} bytes, over redisStore({ maxEntryBytes: ${maxEntryBytes} }); it is not stored (raise the limit if such pages are expected)`,
          ),
        );
        return;
      }
      await command(
        [
          'EVAL',
          SET_SCRIPT,
          String(1 + tags.length),
          entryKey(key),
          ...tags.map(tagKey),
          encoded,
          String(ttl),
          tags.join('\n'),
        ],
        false,
      );
    },
    async delete(key) {
      return Number(await command(['UNLINK', entryKey(key)], false)) > 0;
    },
    async deletePrefix(keyPrefix) {
      const match = `${escapeGlob(entryKey(keyPrefix))}*`;
      let cursor = '0';
      let removed = 0;
      do {
        const reply = (await command(['SCAN', cursor, 'MATCH', match, 'COUNT', '500'], false)) as [
          string,
          string[],
        ];
        cursor = String(reply[0]);
        const keys = reply[1];
        if (keys.length > 0) removed += Number(await command(['UNLINK', ...keys], false));
      } while (cursor !== '0');
      return removed;
    },
    async deleteTag(tag) {
      return Number(await command(['EVAL', DELETE_TAG_SCRIPT, '1', tagKey(tag), tag], false));
    },
  };
}

function encode(entry: CacheEntry): Buffer {
  const head = Buffer.from(JSON.stringify({ m: entry.meta, t: entry.tags }));
  const isString = typeof entry.value === 'string';
  const body = isString ? Buffer.from(entry.value as string) : (entry.value as Buffer);
  const out = Buffer.allocUnsafe(HEADER_BYTES + head.length + body.length);
  out[0] = VERSION;
  out[1] = isString ? KIND_STRING : KIND_BUFFER;
  out.writeUInt32BE(head.length, 2);
  head.copy(out, HEADER_BYTES);
  body.copy(out, HEADER_BYTES + head.length);
  return out;
}

function decode(raw: Buffer, key: string): CacheEntry {
  if (raw.length < HEADER_BYTES || raw[0] !== VERSION) throw corrupt(key);
  const headLength = raw.readUInt32BE(2);
  if (HEADER_BYTES + headLength > raw.length) throw corrupt(key);
  let head: { m: { [key: string]: JsonValue }; t: string[] };
  try {
    head = JSON.parse(raw.toString('utf8', HEADER_BYTES, HEADER_BYTES + headLength));
  } catch (error) {
    throw corrupt(key, error);
  }
  const body = raw.subarray(HEADER_BYTES + headLength);
  return {
    value: raw[1] === KIND_STRING ? body.toString('utf8') : body,
    meta: head.m,
    tags: head.t,
  };
}

function corrupt(key: string, cause?: unknown): KilnCacheError {
  return new KilnCacheError(
    'CORRUPT_ENTRY',
    `the Redis entry for "${key}" is not in the format this version writes; invalidate it or use another prefix`,
    { cause },
  );
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
