import { type RedisServer, startRedis } from '@kiln/test-utils';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coalescing, coalescing } from './coalescing';
import { type RenderLock, redisLock } from './lock';
import type { RedisClientLike } from './redis-store';

// The cross-instance paths end to end (three processes on a Redis Cluster, a dead owner, one
// stale refresh) are in test/redis-cluster-pages.test.tsx; these check the unit on its own.

/** One instance: its coalescing, and the background work it started. */
function instance(lock?: RenderLock) {
  const work: Promise<unknown>[] = [];
  const errors: unknown[] = [];
  const renders: Coalescing<string> = coalescing<string>({
    lock,
    report: (error) => errors.push(error),
    track: (promise) => work.push(promise),
  });
  return { renders, errors, settled: () => Promise.all(work) };
}

describe('coalescing in one process', () => {
  it('the first request leads; the others of the same tick join its value', async () => {
    const { renders } = instance();
    const first = await renders.take('k', async () => undefined);
    expect('lead' in first).toBe(true);
    expect(await renders.take('k', async () => undefined)).toEqual({ alone: true });
    const joined = renders.join('k');
    if (!('lead' in first)) throw new Error('no lead');
    first.lead.settle('page');
    expect(await joined).toEqual({ value: 'page' });
    first.lead.end();
    expect(renders.has('k')).toBe(false);
    expect(renders.join('k')).toBeUndefined();
  });

  it('a lead that ends with nothing gives its waiters nothing, and frees the key', async () => {
    const { renders } = instance();
    const turn = await renders.take('k', async () => undefined);
    const joined = renders.join('k');
    if (!('lead' in turn)) throw new Error('no lead');
    turn.lead.end();
    expect(await joined).toEqual({ value: undefined });
    expect('lead' in (await renders.take('k', async () => undefined))).toBe(true);
  });

  it('without a lock, two refreshes of one key in the same tick start one', () => {
    const { renders } = instance();
    const stillStale = async () => true;
    const lead = renders.refresh('k', stillStale);
    expect(lead).toBeDefined();
    expect(renders.refresh('k', stillStale)).toBeUndefined();
  });
});

describe('coalescing across instances with a Redis lock', () => {
  let redis: RedisServer;
  let client: RedisClientLike & { close(): Promise<void> };
  beforeAll(async () => {
    redis = await startRedis();
    const connected = createClient({ url: redis.url });
    await connected.connect();
    client = connected as unknown as RedisClientLike & { close(): Promise<void> };
  });
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  const lockOf = (prefix: string) => redisLock(client, { prefix, pollMs: 5, timeoutMs: 5_000 });

  /** A lookup of `stored` that tells when a waiter first looked (it holds no lock then). */
  const watched = (stored: Map<string, string>) => {
    let looked!: () => void;
    const firstLook = new Promise<void>((resolve) => (looked = resolve));
    const lookup = async () => {
      looked();
      return stored.get('k');
    };
    return { lookup, firstLook };
  };

  /** Two instances sharing the lock of `prefix`; the first leads `k` and holds its lock. */
  const ownedByA = async (prefix: string) => {
    const a = instance(lockOf(prefix));
    const b = instance(lockOf(prefix));
    const turn = await a.renders.take('k', async () => undefined);
    if (!('lead' in turn)) throw new Error('no lead');
    return { a, b, owner: turn.lead };
  };

  it('a waiter on another instance serves what the lock owner stored', async () => {
    const stored = new Map<string, string>();
    const { a, b, owner } = await ownedByA('found:');
    const { lookup, firstLook } = watched(stored);
    const waiting = b.renders.take('k', lookup);
    await firstLook; // b waits for a's lock
    stored.set('k', 'page from a');
    owner.end();
    const turn = await waiting;
    expect(turn).toMatchObject({ found: 'page from a' });
    expect((turn as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(0);
    await a.settled();
    expect(a.errors).toEqual([]);
  });

  it('the requests of one instance that come while it waits for the lock join its wait', async () => {
    const stored = new Map<string, string>();
    const { a, b, owner } = await ownedByA('join-wait:');
    const { lookup, firstLook } = watched(stored);
    const waiting = b.renders.take('k', lookup);
    // Same tick: b's second request finds the wait in progress, before b has the lock.
    const joined = b.renders.join('k');
    expect(joined).toBeDefined();
    expect(await b.renders.take('k', lookup)).toEqual({ alone: true });
    await firstLook;
    stored.set('k', 'page from a');
    owner.end();
    expect(await waiting).toMatchObject({ found: 'page from a' });
    expect(await joined).toEqual({ value: 'page from a' });
    expect(b.renders.has('k')).toBe(false);
    await a.settled();
  });

  it('a wait that ends in a render of its own gives that render to the joined requests', async () => {
    const { a, b, owner } = await ownedByA('join-lead:');
    const { lookup, firstLook } = watched(new Map());
    const waiting = b.renders.take('k', lookup);
    const joined = b.renders.join('k');
    await firstLook;
    owner.end(); // nothing stored: b renders itself
    const turn = await waiting;
    if (!('lead' in turn)) throw new Error('no lead');
    turn.lead.settle('page from b');
    expect(await joined).toEqual({ value: 'page from b' });
    turn.lead.end();
    await Promise.all([a.settled(), b.settled()]);
  });

  it('a waiter leads itself once the lock vanishes with nothing stored', async () => {
    const { a, b, owner } = await ownedByA('vanish:');
    const { lookup, firstLook } = watched(new Map());
    const waiting = b.renders.take('k', lookup);
    await firstLook; // b waits for a's lock
    owner.end(); // the page was not cacheable: nothing stored, lock released
    const turn = await waiting;
    expect('lead' in turn).toBe(true);
    if ('lead' in turn) turn.lead.end();
    await Promise.all([a.settled(), b.settled()]);
  });

  it('a stale key is refreshed by the instance that holds the lock only', async () => {
    const a = instance(lockOf('refresh:'));
    const b = instance(lockOf('refresh:'));
    const stillStale = async () => true;
    const first = await a.renders.refresh('k', stillStale);
    expect(first).toBeDefined();
    expect(await b.renders.refresh('k', stillStale)).toBeUndefined();
    first?.end();
    await a.settled();
    // refreshed meanwhile by another instance: the lock is taken, then given back at once
    expect(await b.renders.refresh('k', async () => false)).toBeUndefined();
    await b.settled();
    expect(await lockOf('refresh:').held('k')).toBe(false);
  });

  it('renders without the lock when the lock store fails', async () => {
    const broken = redisLock({ ...client, isReady: false } as unknown as RedisClientLike, {
      prefix: 'broken:',
    });
    const a = instance(broken);
    const turn = await a.renders.take('k', async () => undefined);
    expect('lead' in turn).toBe(true);
    expect(a.errors).toHaveLength(1);
  });
});
