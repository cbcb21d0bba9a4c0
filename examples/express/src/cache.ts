import {
  memoryStore,
  type PageCache,
  type PartialCache,
  pageCache,
  partialCache,
  type RedisClientLike,
  type RedisClusterLike,
  type RedisStore,
  type RenderLock,
  redisLock,
  redisStore,
} from '@kiln/cache';
import { createClient, createCluster } from 'redis';

/** A page cache (or, with `KILN_CACHE=partial`, a cache of shells) and what closes it. */
export interface ExamplePageCache {
  pages: PageCache | PartialCache;
  /** True for `KILN_CACHE=partial`: the shop must build its pages for partial pre-rendering. */
  partial: boolean;
  /**
   * With `KILN_CACHE=partial`: a page cache on the same store for crawlers, which the shells
   * cannot serve (a resumed page needs JavaScript) and which any client can claim to be.
   */
  crawlers?: PageCache;
  /** The Redis store, when the cache is in Redis (for health checks). */
  store?: RedisStore;
  /**
   * Waits for the store writes in flight (each bounded by the store's `timeoutMs`), then
   * drops the Redis connections without waiting for a node that no longer answers.
   */
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const NODE_FORMAT =
  'expected host:port,host:port,… (e.g. 10.0.0.1:7000,10.0.0.2:7000 or [::1]:7000)';
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

/**
 * Parses `REDIS_CLUSTER_NODES`: a comma-separated list of `host:port` (IPv6 in brackets), no
 * empty item, no duplicate, ports 1–65535. Throws an error naming the variable otherwise.
 *
 * @example
 * parseClusterNodes('10.0.0.1:7000,10.0.0.2:7000'); // ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000']
 */
export function parseClusterNodes(value: string): string[] {
  const bad = (why: string) =>
    new Error(
      `[kiln/example] REDIS_CLUSTER_NODES=${JSON.stringify(value)} is invalid (${why}); ${NODE_FORMAT}`,
    );
  const urls: string[] = [];
  for (const item of value.split(',')) {
    const match = /^(.+):([0-9]{1,5})$/.exec(item);
    if (!match) throw bad(`"${item}" is not host:port`);
    const [, host, port] = match as unknown as [string, string, string];
    if (!HOST.test(host)) throw bad(`"${host}" is not a host name or IP address`);
    if (Number(port) < 1 || Number(port) > 65535 || port.startsWith('0')) {
      throw bad(`"${port}" is not a port from 1 to 65535`);
    }
    const url = `redis://${host.toLowerCase()}:${port}`;
    if (urls.includes(url)) throw bad(`"${item}" is listed twice`);
    urls.push(url);
  }
  return urls;
}

/** A strictly positive whole number of milliseconds from `name`, or `fallback` when unset. */
function milliseconds(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[1-9][0-9]{0,5}$/.test(raw)) {
    throw new Error(
      `[kiln/example] ${name}=${JSON.stringify(raw)} is invalid; expected a whole number of milliseconds from 1 to 999999`,
    );
  }
  return Number(raw);
}

/**
 * The page cache named by `KILN_CACHE`: `memory` (this process) or `redis` (shared through
 * `REDIS_URL`, default `redis://127.0.0.1:6379`, or through a Redis Cluster with
 * `REDIS_CLUSTER_NODES=host:port,…`); undefined when unset. Anonymous pages are fresh for a
 * minute, then served stale for ten while one render refreshes them. In Redis a render lock
 * makes a cold page render once across every process and machine sharing it.
 * `partial` stores shells instead (in memory, or in Redis when `REDIS_URL` or
 * `REDIS_CLUSTER_NODES` is set), and serves every visitor, signed in or not, the shell plus
 * their own header and prices; crawlers get whole pages from a page cache on the same store.
 * `REDIS_TIMEOUT_MS` bounds each Redis command (default 250).
 *
 * @example
 * const cache = await pageCacheFromEnvironment(process.env);
 * await startServer({ port: 3000, pages: cache?.pages });
 */
/** What `KILN_CACHE`, `REDIS_URL`, `REDIS_CLUSTER_NODES` and `REDIS_TIMEOUT_MS` ask for. */
export interface CacheConfig {
  kind: 'memory' | 'redis' | 'partial';
  /** `redis://` URLs of the cluster nodes to start from; empty for one Redis node. */
  clusterNodes: string[];
  /** The single Redis node; undefined for a cluster or a cache in memory. */
  url: string | undefined;
  /** Longest wait for one Redis command. */
  timeoutMs: number;
  /** Whether the cache is in Redis (else in this process's memory). */
  inRedis: boolean;
}

/**
 * Reads and checks the cache settings without connecting (the `WORKERS` primary checks them
 * once before forking); undefined when `KILN_CACHE` is unset. Throws an error naming the
 * variable for a bad value.
 *
 * @example
 * const config = cacheConfigFromEnvironment({ KILN_CACHE: 'redis', REDIS_CLUSTER_NODES: '10.0.0.1:7000' });
 */
export function cacheConfigFromEnvironment(env: Env): CacheConfig | undefined {
  const kind = env.KILN_CACHE;
  if (!kind) return undefined;
  if (kind !== 'memory' && kind !== 'redis' && kind !== 'partial') {
    throw new Error(`[kiln/example] KILN_CACHE=${kind} is unknown; use memory, redis or partial`);
  }
  const clusterNodes = env.REDIS_CLUSTER_NODES ? parseClusterNodes(env.REDIS_CLUSTER_NODES) : [];
  if (clusterNodes.length > 0 && env.REDIS_URL) {
    throw new Error(
      '[kiln/example] REDIS_URL and REDIS_CLUSTER_NODES are both set; set REDIS_URL for one Redis node or REDIS_CLUSTER_NODES for a Redis Cluster, not both',
    );
  }
  const inRedis =
    kind === 'redis' || (kind === 'partial' && (clusterNodes.length > 0 || !!env.REDIS_URL));
  return {
    kind,
    clusterNodes,
    url:
      inRedis && clusterNodes.length === 0 ? env.REDIS_URL || 'redis://127.0.0.1:6379' : undefined,
    timeoutMs: milliseconds(env, 'REDIS_TIMEOUT_MS', 250),
    inRedis,
  };
}

/**
 * The page cache named by `KILN_CACHE`: `memory` (this process) or `redis` (shared through
 * `REDIS_URL`, default `redis://127.0.0.1:6379`, or through a Redis Cluster with
 * `REDIS_CLUSTER_NODES=host:port,…`); undefined when unset. Anonymous pages are fresh for a
 * minute, then served stale for ten while one render refreshes them. In Redis a render lock
 * makes a cold page render once across every process and machine sharing it.
 * `partial` stores shells instead (in memory, or in Redis when `REDIS_URL` or
 * `REDIS_CLUSTER_NODES` is set), and serves every visitor, signed in or not, the shell plus
 * their own header and prices; crawlers get whole pages from a page cache on the same store.
 * `REDIS_TIMEOUT_MS` bounds each Redis command (default 250).
 *
 * @example
 * const cache = await pageCacheFromEnvironment(process.env);
 * await startServer({ port: 3000, pages: cache?.pages });
 */
export async function pageCacheFromEnvironment(env: Env): Promise<ExamplePageCache | undefined> {
  const config = cacheConfigFromEnvironment(env);
  if (!config) return undefined;
  const { kind, clusterNodes, timeoutMs } = config;
  const options = { ttl: 60_000, staleWhileRevalidate: 600_000, vary: ['accept-language'] };
  if (!config.inRedis) {
    const store = memoryStore();
    return {
      pages:
        kind === 'partial' ? partialCache({ ...options, store }) : pageCache({ ...options, store }),
      partial: kind === 'partial',
      ...(kind === 'partial' ? { crawlers: pageCache({ ...options, store }) } : {}),
      close: async () => {},
    };
  }
  const client =
    clusterNodes.length > 0
      ? createCluster({ rootNodes: clusterNodes.map((url) => ({ url })) })
      : createClient({ url: config.url });
  client.on('error', (error: Error) => console.warn('[kiln/example] redis:', error.message));
  await client.connect();
  const redis: RedisClientLike | RedisClusterLike =
    clusterNodes.length > 0 ? (client as RedisClusterLike) : (client as unknown as RedisClientLike);
  const prefix = 'kiln-example:';
  const store = redisStore(redis, { prefix, timeoutMs });
  const lock: RenderLock = redisLock(redis, { prefix, timeoutMs });
  const pages =
    kind === 'partial'
      ? partialCache({ ...options, store })
      : pageCache({ ...options, store, lock });
  const crawlers = kind === 'partial' ? pageCache({ ...options, store, lock }) : undefined;
  return {
    pages,
    partial: kind === 'partial',
    ...(crawlers ? { crawlers } : {}),
    store,
    close: async () => {
      await Promise.all([pages.idle(), crawlers?.idle()]);
      store.close();
      // `close()` would wait for replies from every node, forever for a dead one.
      client.destroy();
    },
  };
}
