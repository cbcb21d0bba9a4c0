import { acquireOrWait, type RenderLease, type RenderLock } from './lock';
import { type Flight, SingleFlight } from './single-flight';

/**
 * The render of one key led by this process: its outcome goes to the requests of this
 * process that wait for it, and its lock (when the cache has one) keeps the other instances
 * waiting until it ends.
 */
export interface Lead<T> {
  /** Gives `value` to the waiters of this process (`undefined`: nothing they can serve). */
  settle(value: T | undefined): void;
  /** Frees the key and releases the lock; call it once the result is stored (or not stored). */
  end(): void;
}

/**
 * How a request that found nothing stored gets its result: `found` (another instance stored
 * it while this one waited for its lock), `lead` (render it, give it to the others, store it,
 * then end), or `alone` (another request of this process leads it now, with a result this one
 * could not use: render without leading).
 */
export type Turn<T> = { found: T; waitedMs: number } | { lead: Lead<T> } | { alone: true };

/** Options of {@link coalescing}. */
export interface CoalescingOptions {
  /** The lock shared by every instance; without it, coalescing is per process. */
  lock?: RenderLock | undefined;
  /** Lock store failures (the request then renders as if there were no lock). */
  report: (error: unknown) => void;
  /** Background work (lock releases) that `idle()` of the cache waits for. */
  track: (work: Promise<unknown>) => void;
}

/**
 * Coalescing of the renders of one cache: one render per key in this process (single flight)
 * and, with a lock, one render per key across instances.
 */
export interface Coalescing<T> {
  /** The lock shared by every instance, if any. */
  readonly lock: RenderLock | undefined;
  /** Whether this process renders `key` now. */
  has(key: string): boolean;
  /** The number of renders in progress. */
  readonly size: number;
  /**
   * Waits for the render of `key` this process runs now, if any: its value, or `undefined`
   * when it failed or made nothing to serve. Resolves `undefined` at once (not a promise)
   * when no render of `key` runs.
   */
  join(key: string): Promise<{ value: T | undefined }> | undefined;
  /**
   * The turn of a request that found nothing for `key` (see {@link Turn}). With a lock it
   * takes the lock, or waits while another instance holds it, looking for the stored result
   * with `lookup`; it leads without the lock when the lock store fails or the owner ends
   * without storing. The key's flight in this process starts at once, so requests of this
   * process that ask for `key` while the lock is awaited {@link Coalescing.join | join} it.
   */
  take(key: string, lookup: () => Promise<T | undefined>): Promise<Turn<T>>;
  /**
   * The lead of a background refresh of `key`, or `undefined` when someone else refreshes it:
   * a render of this process, or (with a lock) the instance that holds the lock. With a lock,
   * `stillStale` is asked once the lock is taken (another instance may have just refreshed).
   * Without a lock it answers at once, so two requests in one tick start one refresh.
   */
  refresh(
    key: string,
    stillStale: () => Promise<boolean>,
  ): Lead<T> | undefined | Promise<Lead<T> | undefined>;
  /** Resolves when the renders in progress now have settled. */
  idle(): Promise<void>;
}

/**
 * Creates the coalescing of one cache (page or partial cache).
 *
 * @example
 * ```ts
 * const renders = coalescing<string>({ report: console.error, track: () => {} });
 * const turn = await renders.take('page:/', async () => undefined);
 * if ('lead' in turn) {
 *   turn.lead.settle('<html>…</html>');
 *   turn.lead.end();
 * }
 * ```
 */
export function coalescing<T>(options: CoalescingOptions): Coalescing<T> {
  const { lock, report, track } = options;
  const flights = new SingleFlight<T | undefined>();

  const lead = (key: string, lease?: RenderLease): Lead<T> => leadOf(flights.start(key), lease);

  const leadOf = (flight: Flight<T | undefined>, lease?: RenderLease): Lead<T> => {
    return {
      settle: flight.settle,
      end() {
        flight.settle(undefined);
        flight.end();
        if (lease) track(lease.release());
        lease = undefined;
      },
    };
  };

  return {
    lock,
    has: (key) => flights.has(key),
    get size() {
      return flights.size;
    },
    join(key) {
      const outcome = flights.get(key);
      return outcome?.then(
        (value) => ({ value }),
        () => ({ value: undefined }),
      );
    },
    async take(key, lookup) {
      if (flights.has(key)) return { alone: true };
      if (!lock) return { lead: lead(key) };
      // The flight starts before the lock is asked for: the requests of this process that come
      // for the same key meanwhile join it, and get what it finds or renders, instead of each
      // waiting for the lock and reading the store every `pollMs` on its own.
      const flight = flights.start(key);
      // (acquireOrWait reports its own failures; only a throwing `report` gets here)
      const turn = await acquireOrWait(lock, key, lookup, report).catch((error: unknown) => {
        flight.settle(undefined);
        flight.end();
        throw error;
      });
      if (turn && 'found' in turn) {
        flight.settle(turn.found);
        flight.end();
        return turn;
      }
      return { lead: leadOf(flight, turn?.lease) };
    },
    refresh(key, stillStale) {
      if (flights.has(key)) return undefined;
      if (!lock) return lead(key);
      // Only the instance that takes the lock refreshes; the others keep serving stale.
      return lock.acquire(key).then(
        async (lease) => {
          if (!lease) return undefined;
          // Another instance may have refreshed it and released the lock just before.
          if (flights.has(key) || !(await stillStale()) || flights.has(key)) {
            await lease.release();
            return undefined;
          }
          return lead(key, lease);
        },
        (error: unknown) => {
          report(error);
          return undefined;
        },
      );
    },
    idle: () => flights.idle(),
  };
}
