import { KilnCacheError } from './errors';

/**
 * How late (ms) a timer may fire before the event loop counts as having been blocked. Timers of
 * a healthy loop fire within a few milliseconds of their time.
 */
const BLOCKED_LOOP_MS = 20;

/** How many times a deadline starts over after the loop was blocked, at most. */
const MAX_RESTARTS = 4;

/** A wait for an answer from Redis that gives up after a time; see {@link deadline}. */
export interface Deadline {
  /** Rejects with the error of `expire()` once the time is up; never resolves. */
  readonly expired: Promise<never>;
  /** Stops the deadline (the answer came, or the wait ended otherwise). */
  clear(): void;
}

/**
 * Gives up waiting after `ms` milliseconds in which this process could have read the answer.
 *
 * A timer that fires late means the event loop was blocked, typically by a long render: the
 * answer may be waiting unread in the socket, or the command may not even have been written
 * (node-redis writes commands from `setImmediate`). Calling that a timeout would switch the
 * cache off exactly when the process is busiest. So after a late timer the wait starts over,
 * up to {@link MAX_RESTARTS} times; a Redis that does not answer a responsive process still
 * fails after `ms`.
 *
 * `expire` runs once, when the deadline gives up, and returns the rejection's error (it may
 * also report it or start a cooldown).
 */
export function deadline(ms: number, expire: () => Error): Deadline {
  let timer: NodeJS.Timeout | undefined;
  let check: NodeJS.Immediate | undefined;
  let restarts = 0;
  const expired = new Promise<never>((_, reject) => {
    const arm = (): void => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        timer = undefined;
        const late = performance.now() - due;
        if (late > BLOCKED_LOOP_MS && restarts < MAX_RESTARTS) {
          restarts++;
          arm();
          return;
        }
        // Timers run before the loop reads its sockets: an answer that came while this
        // process was busy is read first (clear() then cancels this check), and only a wait
        // with no answer at hand gives up.
        check = setImmediate(() => {
          check = undefined;
          reject(expire());
        });
      }, ms);
    };
    arm();
  });
  expired.catch(() => {});
  return {
    expired,
    clear: () => {
      clearTimeout(timer);
      if (check !== undefined) clearImmediate(check);
    },
  };
}

/**
 * Sends one Redis command and waits for its answer within a {@link deadline} of `ms` (the
 * store's and the lock's one way to talk to Redis). The deadline starts before the command is
 * sent. `timedOut` makes the error of a wait that gave up; `failed` names any other failure (a
 * reply error such as `CLUSTERDOWN`, a dropped connection, a client that throws as it sends)
 * as a `KilnCacheError` with the client's error as its cause. A `KilnCacheError` passes as it is.
 */
export async function answerWithin(
  ms: number,
  send: () => Promise<unknown>,
  timedOut: () => KilnCacheError,
  failed: (error: unknown) => KilnCacheError,
): Promise<unknown> {
  const wait = deadline(ms, timedOut);
  let sent: Promise<unknown> | undefined;
  try {
    sent = send();
    return await Promise.race([sent, wait.expired]);
  } catch (error) {
    if (error instanceof KilnCacheError) throw error;
    throw failed(error);
  } finally {
    wait.clear();
    // a late answer or failure of a command given up on is not an unhandled rejection
    sent?.catch(() => {});
  }
}
