import { answerWithin } from './deadline';
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

/**
 * The part of a node-redis cluster client (`createCluster()` from `redis` 5 or 6) that
 * {@link redisStore} uses. Every command the store sends names one key, so nothing crosses
 * hash slots (no `CROSSSLOT` error); prefix invalidation scans each master.
 */
export interface RedisClusterLike {
  /** True while the cluster client is connected and ready for commands. */
  readonly isReady: boolean;
  /** Sends one raw command to the node that serves `firstKey`. */
  sendCommand(
    firstKey: string | Buffer | undefined,
    isReadonly: boolean | undefined,
    args: ReadonlyArray<string | Buffer>,
    options?: { typeMapping?: { [type: number]: unknown } },
  ): Promise<unknown>;
  /** The master nodes, as the cluster client knows them now. */
  readonly masters: readonly unknown[];
  /** A client connected to one node of {@link RedisClusterLike.masters}. */
  nodeClient(node: never): Promise<{
    sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown>;
  }>;
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
   * After a timeout, how long reads and writes fail at once instead of waiting again, so a
   * hung Redis costs requests nothing. Deletions (`delete`, `deletePrefix`, `deleteTag`) are
   * still sent, each command within `timeoutMs`: skipping one would leave a stale page.
   * Default 1 000 ms.
   */
  cooldownMs?: number;
  /**
   * Largest single entry in bytes (value, metadata and tags as stored); a bigger entry is not
   * stored (an older entry under its key is removed) and `onError` gets an
   * `ENTRY_TOO_LARGE` error. Default 8 MiB.
   */
  maxEntryBytes?: number;
  /** Called with client errors (as `STORE_UNAVAILABLE`, the client's error as `cause`), failed operations (Redis down, timeouts) and entries too large to store. */
  onError?: (error: Error) => void;
}

/** The Redis store, with its state for health checks. */
export interface RedisStore extends Store {
  /** The entry under `key` with the milliseconds it has left (for a memory tier in front). */
  getWithTtl(key: string): Promise<{ entry: CacheEntry; ttlMs: number } | undefined>;
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

// Every script names exactly one key, so each runs on the node that serves that key's
// slot, on a single Redis or a Redis Cluster alike.

/** Writes one entry: its value and the newline-joined tags it carries, expiring with it. */
const SET_SCRIPT = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/**
 * Adds an entry key to a tag index: a sorted set scored by the entry's expiry time (Redis
 * clock). Members whose entries have expired are trimmed on every write, and the index itself
 * expires with its last entry, so it never outgrows the live entries carrying the tag.
 */
const TAG_ADD_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local left = math.floor(tonumber(last[2]) - now)
if left < 1 then left = 1 end
redis.call('PEXPIRE', KEYS[1], left)
return 1`;

/** Lists the live members of a tag index (trimming the expired ones). */
const TAG_MEMBERS_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

/** Removes an entry only while it still carries the tag (a replaced entry may not). */
const DELETE_IF_TAGGED_SCRIPT = `
local tags = redis.call('HGET', KEYS[1], 't')
if tags and string.find('\\n' .. tags .. '\\n', '\\n' .. ARGV[1] .. '\\n', 1, true) then
  return redis.call('UNLINK', KEYS[1])
end
return 0`;

/** Reads an entry's value with its remaining time to live. */
const GET_TTL_SCRIPT = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return false end
return { v, redis.call('PTTL', KEYS[1]) }`;

/** How many single-key commands an invalidation keeps in flight at once. */
const BATCH = 256;

/**
 * A store in Redis, shared by every server instance that uses the same Redis and `prefix`:
 * a page rendered by one instance is served by all, and `deleteTag`/`deletePrefix` remove
 * entries for all of them.
 *
 * Pass a client you created with `createClient` from `redis` (5 or 6) and connected; the
 * store only sends commands through it, so `@kiln/cache` works without `redis` installed
 * when this store is not used. The store is built to survive Redis going away: while the
 * client is not ready every operation fails at once, each command waits at most
 * `timeoutMs`, and after a timeout reads and writes fail fast for `cooldownMs`. The page and
 * data caches treat a failed operation as a miss, so requests are rendered as if there were no
 * cache, and use Redis again as soon as the client has reconnected. Deletions are sent even
 * during the cooldown: an invalidation fails only when Redis does not answer it.
 *
 * Pass either a single-node client (`createClient`) or a cluster client (`createCluster`).
 * Every command names one key, so Redis Cluster never answers `CROSSSLOT`. Entries are one
 * Redis hash each (`<prefix>e:<key>`, expiring with the entry). Each tag has an index
 * (`<prefix>t:<tag>`): a sorted set of entry keys scored by their expiry time, trimmed on
 * every write and expiring with its last entry, so it stays as small as the live entries
 * that carry the tag. `deleteTag` costs one command per entry in the index (an entry is
 * only removed while it still carries the tag). `deletePrefix` scans the keyspace (every
 * master on a cluster), so it costs time in proportion to all keys: prefer tags for
 * frequent invalidation.
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
 *
 * @example
 * ```ts
 * import { createCluster } from 'redis';
 * import { redisStore } from '@kiln/cache';
 *
 * const cluster = createCluster({
 *   rootNodes: [{ url: 'redis://10.0.0.1:7000' }, { url: 'redis://10.0.0.2:7000' }],
 * });
 * await cluster.connect();
 * const store = redisStore(cluster, { prefix: 'shop:' });
 * ```
 */
export function redisStore(
  client: RedisClientLike | RedisClusterLike,
  options: RedisStoreOptions = {},
): RedisStore {
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
    // The connection's own errors (a reset, a refused reconnect), named like every other
    // failure of the store, with the client's error as the cause.
    onError?.(
      new KilnCacheError(
        'STORE_UNAVAILABLE',
        `the Redis connection failed: ${error?.message ?? String(error)}; requests are served without the cache until the client reconnects`,
        { cause: error },
      ),
    );
  };
  client.on('error', clientError);

  const cluster = isCluster(client) ? client : undefined;
  const send = (
    key: string | undefined,
    args: ReadonlyArray<string | Buffer>,
    buffers: boolean,
  ): Promise<unknown> =>
    cluster
      ? cluster.sendCommand(key, false, args, buffers ? BUFFER_REPLIES : undefined)
      : (client as RedisClientLike).sendCommand(args, buffers ? BUFFER_REPLIES : undefined);

  /**
   * Sends one command within `timeoutMs`. `deletion`: sent even during the cooldown (an
   * invalidation skipped because of an earlier timeout would leave a stale page).
   */
  const command = async (
    key: string | undefined,
    args: ReadonlyArray<string | Buffer>,
    buffers: boolean,
    sendTo: () => Promise<unknown> = () => send(key, args, buffers),
    deletion = false,
  ): Promise<unknown> => {
    if (!client.isReady) {
      throw report(
        new KilnCacheError(
          'STORE_UNAVAILABLE',
          'the Redis client is not connected; requests are served without the cache until it reconnects',
        ),
      );
    }
    if (!deletion && Date.now() < coolingUntil) {
      throw new KilnCacheError(
        'STORE_UNAVAILABLE',
        `Redis timed out recently; the cache is skipped for up to ${cooldownMs} ms`,
      );
    }
    return answerWithin(
      timeoutMs,
      sendTo,
      () => {
        coolingUntil = Date.now() + cooldownMs;
        return report(
          new KilnCacheError(
            'STORE_TIMEOUT',
            `Redis did not answer ${String(args[0])} within ${timeoutMs} ms; raise redisStore({ timeoutMs }) if Redis is slow but healthy`,
          ),
        );
      },
      (error) =>
        report(
          new KilnCacheError(
            'STORE_FAILED',
            `Redis ${String(args[0])} failed: ${(error as Error)?.message ?? String(error)}; check the Redis server`,
            { cause: error },
          ),
        ),
    );
  };

  /** A command of a deletion: string replies, sent even during the cooldown. */
  const drop = (
    key: string | undefined,
    args: ReadonlyArray<string | Buffer>,
    sendTo?: () => Promise<unknown>,
  ): Promise<unknown> => command(key, args, false, sendTo, true);

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
      const reply = await command(entryKey(key), ['HGET', entryKey(key), 'v'], true);
      if (reply === null || reply === undefined) return undefined;
      if (!Buffer.isBuffer(reply)) throw corrupt(key);
      return decode(reply, key);
    },
    async getWithTtl(key) {
      const ek = entryKey(key);
      const reply = await command(ek, ['EVAL', GET_TTL_SCRIPT, '1', ek], true);
      if (reply === null || reply === undefined) return undefined;
      if (!Array.isArray(reply) || !Buffer.isBuffer(reply[0])) throw corrupt(key);
      const ttlMs = Number(reply[1]);
      return { entry: decode(reply[0], key), ttlMs: Math.max(ttlMs, 0) };
    },
    async set(key, entry, ttlMs) {
      const ek = entryKey(key);
      const ttl = Math.ceil(ttlMs);
      if (!(ttl > 0)) {
        await command(ek, ['UNLINK', ek], false);
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
        await command(ek, ['UNLINK', ek], false);
        report(
          new KilnCacheError(
            'ENTRY_TOO_LARGE',
            `the entry "${key}" is ${encoded.length} bytes, over redisStore({ maxEntryBytes: ${maxEntryBytes} }); it is not stored (raise the limit if such pages are expected)`,
          ),
        );
        return;
      }
      // Index first: an entry that exists is always reachable from its tags.
      await Promise.all(
        tags.map((tag) =>
          command(tagKey(tag), ['EVAL', TAG_ADD_SCRIPT, '1', tagKey(tag), ek, String(ttl)], false),
        ),
      );
      await command(
        ek,
        ['EVAL', SET_SCRIPT, '1', ek, encoded, String(ttl), tags.join('\n')],
        false,
      );
    },
    async delete(key) {
      return Number(await drop(entryKey(key), ['UNLINK', entryKey(key)])) > 0;
    },
    async deletePrefix(keyPrefix) {
      const match = `${escapeGlob(entryKey(keyPrefix))}*`;
      let removed = 0;
      const scanOne = async (
        scan: (args: ReadonlyArray<string>) => Promise<unknown>,
        unlink: (keys: string[]) => Promise<number>,
      ): Promise<void> => {
        let cursor = '0';
        do {
          const reply = (await scan(['SCAN', cursor, 'MATCH', match, 'COUNT', '500'])) as [
            string,
            string[],
          ];
          cursor = String(reply[0]);
          if (reply[1].length > 0) removed += await unlink(reply[1]);
        } while (cursor !== '0');
      };
      if (!cluster) {
        await scanOne(
          (args) => drop(undefined, args),
          async (keys) => Number(await drop(undefined, ['UNLINK', ...keys])),
        );
        return removed;
      }
      // Keys of one node live in many slots: scan each master, unlink key by key.
      for (const master of cluster.masters) {
        const node = (await drop(undefined, ['SCAN'], () =>
          cluster.nodeClient(master as never),
        )) as { sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown> };
        await scanOne(
          (args) => drop(undefined, args, () => node.sendCommand(args)),
          (keys) => unlinkEach(keys, (k) => drop(k, ['UNLINK', k])),
        );
      }
      return removed;
    },
    async deleteTag(tag) {
      const index = tagKey(tag);
      const members = (await drop(index, ['EVAL', TAG_MEMBERS_SCRIPT, '1', index])) as string[];
      const removed = await unlinkEach(members, (k) =>
        drop(k, ['EVAL', DELETE_IF_TAGGED_SCRIPT, '1', k, tag]),
      );
      // Only the members handled here: an entry tagged meanwhile keeps its place.
      for (let i = 0; i < members.length; i += BATCH) {
        await drop(index, ['ZREM', index, ...members.slice(i, i + BATCH)]);
      }
      return removed;
    },
  };
}

/** Whether `client` is a cluster client (it can reach each node). */
export function isCluster(client: RedisClientLike | RedisClusterLike): client is RedisClusterLike {
  return typeof (client as Partial<RedisClusterLike>).nodeClient === 'function';
}

/** Runs one single-key removal per key, {@link BATCH} at a time; resolves how many went. */
async function unlinkEach(
  keys: readonly string[],
  remove: (key: string) => Promise<unknown>,
): Promise<number> {
  let removed = 0;
  for (let i = 0; i < keys.length; i += BATCH) {
    const done = await Promise.all(keys.slice(i, i + BATCH).map(remove));
    for (const count of done) removed += Number(count);
  }
  return removed;
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
