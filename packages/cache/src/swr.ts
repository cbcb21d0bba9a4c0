import type { Coalescing, Lead } from './coalescing';

/**
 * Stale-while-revalidate, for the page and the partial cache: how long an entry is fresh, then
 * stale (served while one background render refreshes it), then gone.
 */

/** When a stored entry stops being fresh, and when it stops being served at all. */
export interface Lifetime {
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
}

/** What an entry is at one moment. */
export type Freshness = 'fresh' | 'stale' | 'expired';

/**
 * The lifetime of an entry stored at `storedAt`: fresh for `ttl` (or the render's own
 * `maxAge`, when shorter), then stale for `staleWhileRevalidate`.
 */
export function lifetime(
  storedAt: number,
  policy: { readonly ttl: number; readonly staleWhileRevalidate: number },
  maxAgeMs: number | undefined,
): Lifetime {
  const fresh = maxAgeMs === undefined ? policy.ttl : Math.min(policy.ttl, maxAgeMs);
  return {
    storedAt,
    freshUntil: storedAt + fresh,
    staleUntil: storedAt + fresh + policy.staleWhileRevalidate,
  };
}

/** Whether `entry` is fresh, stale or expired at `at`. */
export function freshness(entry: Lifetime, at: number): Freshness {
  if (at < entry.freshUntil) return 'fresh';
  return at < entry.staleUntil ? 'stale' : 'expired';
}

/** How long a store keeps an entry: until it is no longer served, at least 1 ms. */
export function retention(entry: Lifetime): number {
  return Math.max(1, entry.staleUntil - entry.storedAt);
}

/**
 * Refreshes a stale entry in the background, once: not when this process already renders its
 * key, and with a lock only on the instance that takes it (after `stillStale` says no other
 * instance refreshed it meanwhile). `refresh` renders and stores under the lead, then ends it;
 * the work goes to `track`.
 */
export function revalidate<T>(
  renders: Coalescing<T>,
  key: string,
  stillStale: () => Promise<boolean>,
  refresh: (lead: Lead<T>) => Promise<unknown>,
  track: (work: Promise<unknown>) => void,
): void {
  const lead = renders.refresh(key, stillStale);
  if (lead === undefined) return;
  if ('then' in lead) track(lead.then((taken) => taken && refresh(taken)));
  else track(refresh(lead));
}
