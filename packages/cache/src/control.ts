import { type Context, createContext, useContext } from 'react';

/**
 * What a component can tell the page cache about the response being rendered. Calls only
 * matter while a page cache renders the page; elsewhere (streaming without a cache, in the
 * browser) they do nothing.
 */
export interface PageCacheControl {
  /** True while a page cache is rendering this page to store it. */
  readonly active: boolean;
  /** Tags the page, e.g. `tag('product:42')`; `invalidate('product:42')` then drops it. */
  tag(...tags: string[]): void;
  /** Shortens how long this page stays fresh (the smallest value wins). */
  maxAge(ms: number): void;
  /** Keeps this response out of the cache, e.g. when it shows something personal. */
  noStore(reason?: string): void;
}

/** The control of one render, collected by the page cache after the render. */
export interface CollectedControl extends PageCacheControl {
  readonly tags: ReadonlySet<string>;
  readonly maxAgeMs: number | undefined;
  readonly noStoreReason: string | undefined;
}

/** A fresh control for one page render. */
export function createControl(): CollectedControl {
  const tags = new Set<string>();
  let maxAgeMs: number | undefined;
  let noStoreReason: string | undefined;
  return {
    active: true,
    get tags() {
      return tags;
    },
    get maxAgeMs() {
      return maxAgeMs;
    },
    get noStoreReason() {
      return noStoreReason;
    },
    tag(...next) {
      for (const tag of next) {
        if (typeof tag === 'string' && tag !== '' && !tag.includes('\n')) tags.add(tag);
      }
    },
    maxAge(ms) {
      if (Number.isFinite(ms) && ms >= 0 && (maxAgeMs === undefined || ms < maxAgeMs)) {
        maxAgeMs = ms;
      }
    },
    noStore(reason = 'noStore() was called') {
      noStoreReason ??= reason;
    },
  };
}

/** The control outside a page cache render: every call does nothing. */
export const inactiveControl: PageCacheControl = {
  active: false,
  tag() {},
  maxAge() {},
  noStore() {},
};

const CONTEXT_KEY = Symbol.for('@kiln/cache/control');

/**
 * The React context carrying the control. It is kept under a global symbol so the server and
 * client builds of this package (and two copies of it) agree on one context object.
 */
export function controlContext(): Context<PageCacheControl> {
  const holder = globalThis as { [CONTEXT_KEY]?: Context<PageCacheControl> };
  let context = holder[CONTEXT_KEY];
  if (!context) {
    context = createContext<PageCacheControl>(inactiveControl);
    context.displayName = 'KilnPageCache';
    holder[CONTEXT_KEY] = context;
  }
  return context;
}

/**
 * The page cache's control for the page being rendered: tag it, shorten its freshness or
 * keep it out of the cache. Safe in shared components: outside a page cache render (the
 * browser, an uncached request) every call does nothing.
 *
 * @example
 * ```tsx
 * import { useCacheControl } from '@kiln/cache/client';
 *
 * function Account({ user }: { user?: { name: string } }) {
 *   const cache = useCacheControl();
 *   if (user) cache.noStore('shows the signed-in user');
 *   return <p>{user ? `Hello ${user.name}` : 'Sign in'}</p>;
 * }
 * ```
 */
export function useCacheControl(): PageCacheControl {
  return useContext(controlContext());
}

/**
 * Tags the page being rendered, so `invalidate(tag)` drops it from the page cache on every
 * instance that shares the store. Does nothing outside a page cache render.
 *
 * @example
 * ```tsx
 * import { useCacheTags } from '@kiln/cache/client';
 *
 * function ProductCard({ id, name }: { id: string; name: string }) {
 *   useCacheTags(`product:${id}`);
 *   return <h2>{name}</h2>;
 * }
 * // later, when product 42 changes: await pages.invalidate('product:42');
 * ```
 */
export function useCacheTags(...tags: string[]): void {
  useContext(controlContext()).tag(...tags);
}
