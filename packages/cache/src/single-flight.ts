/**
 * Single flight: one piece of work per key at a time in this process, its outcome shared
 * with every caller that asks for the same key while it runs. The page, partial and data
 * caches all coalesce through it (the page and partial caches through {@link coalescing},
 * which adds the lock shared across instances).
 */

/** The flight of one key, held by the caller that started it. */
export interface Flight<T> {
  /** What every waiter gets: the first `settle` or `fail` decides it. */
  readonly outcome: Promise<T>;
  /** Gives `value` to every waiter (only the first `settle` or `fail` counts). */
  settle(value: T): void;
  /** Gives `error` to every waiter (only the first `settle` or `fail` counts). */
  fail(error: unknown): void;
  /**
   * Frees the key: the next caller starts a new flight. Waiters that have the outcome keep it.
   * Call it after `settle` or `fail` (a flight ended unsettled would leave its waiters waiting).
   */
  end(): void;
}

/** The flights of one cache, by key. */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /** The number of flights in progress. */
  get size(): number {
    return this.#flights.size;
  }

  /** Whether a flight of `key` is in progress. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** The outcome of the flight of `key` in progress, if any. */
  get(key: string): Promise<T> | undefined {
    return this.#flights.get(key)?.outcome;
  }

  /**
   * Starts the flight of `key`, settled and ended by hand (for work that is not one promise,
   * or whose key stays taken after its outcome is known, e.g. until it is stored).
   */
  start(key: string): Flight<T> {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const outcome = new Promise<T>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    // A failure nobody waits for is not an unhandled rejection: the starter has the error.
    outcome.catch(() => {});
    const flights = this.#flights;
    const flight: Flight<T> = {
      outcome,
      settle: resolve,
      fail: reject,
      end() {
        if (flights.get(key) === flight) flights.delete(key);
      },
    };
    flights.set(key, flight);
    return flight;
  }

  /**
   * Runs `work` for `key`, or joins the run in progress: every caller gets the same value or
   * error. The key is free again as soon as the run settles, so a call after a failure runs
   * `work` again.
   */
  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.get(key);
    if (running) return running;
    const flight = this.start(key);
    const ran = (async () => work())();
    ran.then(flight.settle, flight.fail).finally(flight.end);
    return flight.outcome;
  }

  /** Resolves when every flight in progress now has settled (whatever its outcome). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#flights.values()].map((flight) => flight.outcome));
  }
}
