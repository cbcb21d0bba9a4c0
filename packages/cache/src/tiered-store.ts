import { randomUUID } from 'node:crypto';
import { KilnCacheError } from './errors';
import { memoryStore } from './memory-store';
import type { CacheEntry, Store } from './store';

/** A pub/sub message listener (node-redis passes strings unless asked for buffers). */
export type MessageListener = (message: string | Buffer, channel: string | Buffer) => void;

/**
 * The part of a node-redis client or cluster client (`redis` 5 or 6) that
 * {@link tieredStore} subscribes with. Give it a connection of its own
 * (`client.duplicate()`): a subscribed node-redis client sends no other command.
 */
export interface RedisSubscriberLike {
  /** Subscribes `listener` to `channel` (node-redis resubscribes by itself after a reconnect). */
  subscribe(channel: string, listener: MessageListener): Promise<unknown>;
  /** Removes `listener` from `channel`. */
  unsubscribe(channel: string, listener: MessageListener): Promise<unknown>;
  /** Adds a connection event listener (`ready`, `end`, `reconnecting`, `node-ready`…). */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Removes a connection event listener. */
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** The part of a node-redis client or cluster client that {@link tieredStore} publishes with. */
export interface RedisPublisherLike {
  /** `PUBLISH channel message`. On a Redis Cluster every node's subscribers receive it. */
  publish(channel: string, message: string): Promise<unknown>;
}

/**
 * A shared store that can also tell how long an entry has left ({@link redisStore} can), so
 * a local copy never outlives the shared one.
 */
export interface StoreWithTtl extends Store {
  /** The entry under `key` with the milliseconds it has left, or `undefined`. */
  getWithTtl?(key: string): Promise<{ entry: CacheEntry; ttlMs: number } | undefined>;
}

/** Options of {@link tieredStore}. */
export interface TieredStoreOptions {
  /** A connected client used only to subscribe (`client.duplicate()`), single node or cluster. */
  subscriber: RedisSubscriberLike;
  /**
   * A connected client to publish invalidations with (the one the shared store uses is fine).
   * Optional with a cluster subscriber, which publishes over its ordinary node connections;
   * required with a single-node subscriber (a subscribed connection cannot publish).
   */
  publisher?: RedisPublisherLike;
  /** The pub/sub channel; every instance sharing the store must use the same. Default `kiln:invalidate`. */
  channel?: string;
  /** Most entries kept in memory; the least recently used go first. */
  maxEntries: number;
  /** Most bytes kept in memory. Default 64 MiB. */
  maxBytes?: number;
  /**
   * Longest time a local copy is kept, even when the shared entry lives longer. Entries are
   * never kept longer than the shared TTL. When the shared store cannot tell an entry's TTL
   * (it has no `getWithTtl`), entries read from it are kept in memory only if this is set.
   */
  maxAgeMs?: number;
  /**
   * While the subscription is not confirmed, how often it is checked again by publishing a
   * probe to itself. Default 1 000 ms.
   */
  probeIntervalMs?: number;
  /** Called with pub/sub errors, malformed messages and failed publishes. */
  onError?: (error: Error) => void;
}

/** Counters of a {@link TieredStore}. */
export interface TieredStoreStats {
  /** Reads answered from this process's memory. */
  readonly memoryHits: number;
  /** Reads answered by the shared store. */
  readonly sharedHits: number;
  /** Invalidations received from other instances. */
  readonly invalidationsReceived: number;
}

/** The two-tier store, with its counters and state. */
export interface TieredStore extends Store {
  /** Counters since the store was created. */
  readonly stats: TieredStoreStats;
  /**
   * True while the subscription is confirmed and the memory tier serves. False while the
   * subscriber is disconnected: every read then goes to the shared store.
   */
  readonly serving: boolean;
  /** Entries in the memory tier now. */
  readonly memoryEntries: number;
  /**
   * Stops serving, empties the memory tier and sends `UNSUBSCRIBE` (without waiting for it, so
   * a dead connection cannot hold it up; a failure of it is not reported, so the app may
   * destroy its clients right after). The clients stay open (the app owns them).
   */
  close(): Promise<void>;
}

type Op = 'key' | 'prefix' | 'tag' | 'probe';
interface Message {
  readonly from: string;
  readonly op: Op;
  readonly arg: string;
}

const VERSION = 1;
const OPS: ReadonlySet<string> = new Set<Op>(['key', 'prefix', 'tag', 'probe']);
const MAX_MESSAGE = 64 * 1024;

/**
 * An in-process LRU memory tier in front of a shared store (usually {@link redisStore}),
 * kept coherent across instances by Redis pub/sub.
 *
 * Reads are answered from memory when possible, else from the shared store (and kept in
 * memory for at most the shared entry's remaining TTL, or `maxAgeMs` if shorter). Every
 * `delete`, `deletePrefix`, `deleteTag` and `set` goes to the shared store, then is
 * published on `channel`; every other instance drops the matching entries from its memory
 * (a `set` drops the other instances' copies of that key). An instance ignores its own
 * messages.
 *
 * While the subscription is not confirmed (at start, after a disconnect) the memory tier
 * neither serves nor fills, since invalidations could be missed; it is emptied when the
 * subscription is back. The subscription is confirmed by publishing a probe and receiving
 * it, which works the same on a single node and on a Redis Cluster (where `PUBLISH` reaches
 * the subscribers of every node).
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { pageCache, redisStore, tieredStore } from '@kiln/cache';
 *
 * const client = createClient({ url: process.env.REDIS_URL });
 * await client.connect();
 * const subscriber = client.duplicate();
 * await subscriber.connect();
 * const store = tieredStore(redisStore(client, { prefix: 'shop:' }), {
 *   subscriber,
 *   publisher: client,
 *   channel: 'shop:invalidate',
 *   maxEntries: 2_000,
 *   maxBytes: 64 * 1024 * 1024,
 *   onError: (error) => console.error(error),
 * });
 * const pages = pageCache({ store, ttl: 60_000 });
 * ```
 */
export function tieredStore(shared: StoreWithTtl, options: TieredStoreOptions): TieredStore {
  const { subscriber, onError } = options;
  const publisher =
    options.publisher ??
    (typeof (subscriber as Partial<RedisPublisherLike> & { nodeClient?: unknown })?.nodeClient ===
    'function'
      ? (subscriber as unknown as RedisPublisherLike)
      : undefined);
  const channel = options.channel ?? 'kiln:invalidate';
  const maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
  const probeIntervalMs = options.probeIntervalMs ?? 1_000;
  if (!subscriber || !publisher || typeof subscriber.subscribe !== 'function') {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'tieredStore() needs { subscriber, publisher }: a dedicated client.duplicate() to subscribe and a client to publish (only a cluster subscriber can publish itself)',
    );
  }
  if (!(maxAgeMs > 0) || !(probeIntervalMs > 0) || channel === '') {
    throw new KilnCacheError(
      'INVALID_OPTION',
      'tieredStore({ maxAgeMs, probeIntervalMs, channel }) must be positive numbers and a non-empty channel',
    );
  }
  const local = memoryStore({
    maxEntries: options.maxEntries,
    maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
  });
  const id = randomUUID();
  let memoryHits = 0;
  let sharedHits = 0;
  let invalidationsReceived = 0;
  let closed = false;
  /** Whether the subscription is confirmed (our own probe came back since the last outage). */
  let live = false;
  /** Counts outages; a probe only confirms the subscription if sent during the current one. */
  let outage = 0;
  /**
   * Reads and writes in flight, by key. An invalidation that arrives meanwhile marks them
   * stale, and a stale one does not fill the memory tier (its value may be the one just
   * invalidated).
   */
  const inflight = new Map<string, Set<{ stale: boolean }>>();
  const begin = (key: string): { stale: boolean } => {
    const token = { stale: false };
    let tokens = inflight.get(key);
    if (!tokens) {
      tokens = new Set();
      inflight.set(key, tokens);
    }
    tokens.add(token);
    return token;
  };
  const end = (key: string, token: { stale: boolean }): void => {
    const tokens = inflight.get(key);
    tokens?.delete(token);
    if (tokens?.size === 0) inflight.delete(key);
  };
  const markStale = (matches: (key: string) => boolean): void => {
    for (const [key, tokens] of inflight) {
      if (matches(key)) for (const token of tokens) token.stale = true;
    }
  };

  const report = (error: Error): void => {
    onError?.(error);
  };

  const publish = async (op: Op, arg: string): Promise<void> => {
    await publisher.publish(channel, JSON.stringify({ v: VERSION, from: id, op, arg }));
  };

  /** Whether `SUBSCRIBE` was sent (or is under way); a failed one is retried by the next probe. */
  let subscribed = false;
  const subscribe = (): void => {
    if (subscribed || closed) return;
    subscribed = true;
    subscriber.subscribe(channel, onMessage).then(probe, (error: unknown) => {
      subscribed = false;
      report(
        new KilnCacheError(
          'STORE_UNAVAILABLE',
          `the memory tier could not subscribe to "${channel}"; it serves nothing until it can (is the subscriber connected?)`,
          { cause: error },
        ),
      );
    });
  };

  const probe = (): void => {
    if (closed || live) return;
    if (!subscribed) {
      subscribe();
      return;
    }
    publish('probe', String(outage)).catch((error: unknown) =>
      report(
        new KilnCacheError(
          'STORE_UNAVAILABLE',
          `the memory tier could not publish on "${channel}" to check its subscription; it serves nothing until it can`,
          { cause: error },
        ),
      ),
    );
  };

  const down = (): void => {
    outage++;
    markStale(() => true);
    if (live) {
      live = false;
      local.clear();
    }
  };

  const dropLocal = async (op: Exclude<Op, 'probe'>, arg: string): Promise<void> => {
    markStale(
      op === 'key'
        ? (key) => key === arg
        : op === 'prefix'
          ? (key) => key.startsWith(arg)
          : () => true,
    );
    if (op === 'key') await local.delete(arg);
    else if (op === 'prefix') await local.deletePrefix(arg);
    else await local.deleteTag(arg);
  };

  const onMessage = (raw: string | Buffer): void => {
    const message = parse(raw);
    if (!message) {
      report(
        new KilnCacheError(
          'INVALID_MESSAGE',
          `ignored a malformed message on the channel "${channel}"; only tieredStore() instances should publish there`,
        ),
      );
      return;
    }
    if (message.from === id) {
      if (message.op === 'probe' && message.arg === String(outage) && !live && !closed) {
        markStale(() => true);
        local.clear();
        live = true;
      }
      return;
    }
    if (message.op === 'probe') return;
    invalidationsReceived++;
    dropLocal(message.op, message.arg).catch(report);
  };

  const onDown = (): void => down();
  const onReady = (): void => probe();
  const downEvents = [
    'end',
    'error',
    'reconnecting',
    'disconnect',
    'node-disconnect',
    'node-reconnecting',
  ];
  const readyEvents = ['ready', 'node-ready'];
  for (const event of downEvents) subscriber.on(event, onDown);
  for (const event of readyEvents) subscriber.on(event, onReady);

  const timer = setInterval(probe, probeIntervalMs);
  timer.unref();

  subscribe();

  /** Runs a shared invalidation, dropping local copies before and after it, then publishes. */
  const invalidation = async <T>(
    op: Exclude<Op, 'probe'>,
    arg: string,
    run: () => Promise<T>,
  ): Promise<T> => {
    await dropLocal(op, arg);
    const result = await run();
    await dropLocal(op, arg);
    try {
      await publish(op, arg);
    } catch (error) {
      throw new KilnCacheError(
        'STORE_FAILED',
        `the shared store was updated but the invalidation could not be published on "${channel}"; other instances keep their memory copy for up to maxAgeMs, retry the invalidation`,
        { cause: error },
      );
    }
    return result;
  };

  const keep = async (key: string, entry: CacheEntry, ttlMs: number): Promise<void> => {
    const ttl = Math.min(ttlMs, maxAgeMs);
    if (ttl >= 1) await local.set(key, entry, ttl);
  };

  return {
    name: `tiered(${shared.name})`,
    get stats() {
      return { memoryHits, sharedHits, invalidationsReceived };
    },
    get serving() {
      return live && !closed;
    },
    get memoryEntries() {
      return local.size;
    },
    async close() {
      closed = true;
      live = false;
      clearInterval(timer);
      for (const event of downEvents) subscriber.off(event, onDown);
      for (const event of readyEvents) subscriber.off(event, onReady);
      local.clear();
      // Not awaited: on a dead connection an UNSUBSCRIBE waits until it reconnects. Its
      // failure is not reported: the store is closed, and the usual cause is the app
      // destroying its clients right after close().
      subscriber.unsubscribe(channel, onMessage).catch(() => {});
    },
    async get(key) {
      if (live) {
        const hit = await local.get(key);
        if (hit && live) {
          memoryHits++;
          return hit;
        }
      }
      const token = begin(key);
      try {
        const t0 = performance.now();
        if (shared.getWithTtl) {
          const found = await shared.getWithTtl(key);
          if (!found) return undefined;
          sharedHits++;
          if (live && !token.stale) {
            await keep(key, found.entry, found.ttlMs - (performance.now() - t0));
          }
          return found.entry;
        }
        const entry = await shared.get(key);
        if (!entry) return undefined;
        sharedHits++;
        if (live && !token.stale && maxAgeMs !== Number.POSITIVE_INFINITY) {
          await keep(key, entry, maxAgeMs - (performance.now() - t0));
        }
        return entry;
      } finally {
        end(key, token);
      }
    },
    async set(key, entry, ttlMs) {
      await dropLocal('key', key);
      const token = begin(key);
      try {
        const t0 = performance.now();
        await shared.set(key, entry, ttlMs);
        if (live && !token.stale) await keep(key, entry, ttlMs - (performance.now() - t0));
      } finally {
        end(key, token);
      }
      try {
        await publish('key', key);
      } catch (error) {
        await local.delete(key);
        throw new KilnCacheError(
          'STORE_FAILED',
          `the entry "${key}" was stored but the change could not be published on "${channel}"; other instances may serve their older memory copy`,
          { cause: error },
        );
      }
    },
    delete(key) {
      return invalidation('key', key, () => shared.delete(key));
    },
    deletePrefix(prefix) {
      return invalidation('prefix', prefix, () => shared.deletePrefix(prefix));
    },
    deleteTag(tag) {
      return invalidation('tag', tag, () => shared.deleteTag(tag));
    },
  };
}

/** Parses one channel message strictly; anything unexpected gives `undefined`. */
function parse(raw: unknown): Message | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_MESSAGE) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const { v, from, op, arg, ...rest } = data as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || v !== VERSION) return undefined;
  if (typeof from !== 'string' || from === '' || from.length > 64) return undefined;
  if (typeof op !== 'string' || !OPS.has(op) || typeof arg !== 'string') return undefined;
  return { from, op: op as Op, arg };
}
