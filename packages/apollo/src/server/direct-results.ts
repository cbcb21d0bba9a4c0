import { type ApolloClient, InMemoryCache } from '@apollo/client';
import { canonicalStringify } from '@apollo/client/utilities';
import type { DocumentNode } from 'graphql';

/** A result fetched by the server and not yet written into the request's cache. */
export interface DirectResult {
  /** The query as Apollo transformed it (with `__typename`), as Apollo writes it. */
  readonly query: DocumentNode;
  readonly variables: Record<string, unknown> | undefined;
  readonly data: unknown;
}

interface DiffOptions {
  query: DocumentNode;
  variables?: Record<string, unknown>;
  id?: string;
}

/** The cache methods the interception replaces on the cache object (restored on release). */
const GUARDED = ['diff', 'read', 'write', 'extract', 'restore', 'reset', 'modify', 'evict', 'gc'];
/** Of those, the ones that change or replace the cache's data: results served before may differ from it now. */
const CHANGING = new Set(['restore', 'reset', 'modify', 'evict']);

/** The id under which a query's result is written (`writeQuery`'s default). */
export const ROOT = 'ROOT_QUERY';

type Method = (this: unknown, ...args: unknown[]) => unknown;

interface PolicyLike {
  merge?: unknown;
  fields?: Record<string, unknown>;
}

/** Whether a field policy (or a type policy's `fields` entry) reads, merges or parses values. */
function transformsValues(field: unknown): boolean {
  if (typeof field === 'function') return true;
  if (typeof field !== 'object' || field === null) return false;
  const { read, merge, scalar } = field as { read?: unknown; merge?: unknown; scalar?: unknown };
  return read !== undefined || merge !== undefined || scalar !== undefined;
}

function policyTransforms(policy: PolicyLike | undefined): boolean {
  if (!policy) return false;
  if (policy.merge !== undefined) return true;
  return Object.values(policy.fields ?? {}).some(transformsValues);
}

/**
 * Why the request's client cannot serve hooks the results the server fetched, or undefined
 * when it can: an `InMemoryCache` whose reads return exactly what was written (no `read`,
 * `merge` or `scalar` policies) and no data masking. Otherwise every result goes through the
 * normalised cache, as Apollo does.
 */
export function directResultsObstacle(client: ApolloClient): string | undefined {
  const cache = client.cache as unknown;
  if (!(cache instanceof InMemoryCache)) return 'the cache is not an InMemoryCache';
  const policies = (
    cache as unknown as {
      policies?: { typePolicies?: Record<string, PolicyLike>; toBeAdded?: Record<string, unknown> };
    }
  ).policies;
  if (!policies?.typePolicies) return 'the cache has no readable type policies';
  if (Object.values(policies.typePolicies).some(policyTransforms)) {
    return 'a type policy has read, merge or scalar functions';
  }
  const pending = Object.values(policies.toBeAdded ?? {}).flat() as PolicyLike[];
  if (pending.some(policyTransforms)) return 'a type policy has read, merge or scalar functions';
  const manager = (client as unknown as { queryManager?: { dataMasking?: unknown } }).queryManager;
  if (!manager || !('dataMasking' in manager)) return 'the client does not say whether it masks';
  if (manager.dataMasking) return 'the client masks data (dataMasking)';
  return undefined;
}

/**
 * Serves each server hook the result the server fetched for it, instead of writing it into the
 * request's normalised cache and reading it back: on the server the cache lives for one request
 * and each result is read about once, so the write and the read are mostly work thrown away.
 *
 * The results still reach the cache, in the order they arrived, as soon as anything else could
 * see the difference: any other read of the cache (another query, a fragment, an extract), any
 * write, and any change. Until then they are kept aside, and the browser gets them as writes
 * (the same writes Apollo would have made). A change of the cache (`modify`, `evict`,
 * `restore`, `reset`) after results were served ends the serving for the request.
 *
 * Used only where a read returns what was written: see {@link directResultsObstacle}.
 */
export class DirectResults {
  private readonly counts: { direct: number };
  private readonly cache: ApolloCacheLike;
  private readonly own = new Map<string, Method>();
  private readonly hadOwn = new Set<string>();
  private readonly results = new Map<DocumentNode, Map<string, unknown>>();
  private pending: DirectResult[] = [];
  /** A shell's cache to restore before anything reads the cache (see {@link restoreLater}). */
  private base: { data: unknown } | undefined;
  private serving = true;
  /** Inside {@link aside}: reads do not restore the waiting shell's data. */
  private asideDepth = 0;

  /** `counts.direct` counts the reads answered from a fetched result. */
  constructor(cache: object, counts: { direct: number }) {
    this.cache = cache as ApolloCacheLike;
    this.counts = counts;
    const target = cache as Record<string, unknown>;
    for (const name of GUARDED) {
      const method = target[name] as Method;
      if (Object.hasOwn(target, name)) this.hadOwn.add(name);
      this.own.set(name, method);
      target[name] =
        name === 'diff'
          ? (options: DiffOptions) => this.diff(options, method)
          : (...args: unknown[]) => {
              this.flush();
              if (CHANGING.has(name) && this.results.size > 0) this.stop();
              return method.apply(cache, args);
            };
    }
  }

  /** Keeps `data`, the complete result of `query` (transformed) with `variables`, for the hooks that ask for it. */
  add(query: DocumentNode, variables: Record<string, unknown> | undefined, data: unknown): void {
    if (!this.serving) {
      this.call('write', { query, variables, result: data, dataId: ROOT });
      return;
    }
    let byVariables = this.results.get(query);
    if (!byVariables) {
      byVariables = new Map();
      this.results.set(query, byVariables);
    }
    byVariables.set(canonicalStringify(variables ?? {}), data);
    this.pending.push({ query, variables, data });
  }

  /**
   * Restores `data` (a shell's extracted cache) into the cache only when something other than
   * a hook's read of a fetched result first needs the cache: on a resume whose holes read only
   * the results fetched for them, the shell's data is never copied into the request's cache.
   * Until then the cache holds nothing else: call it before any write.
   */
  restoreLater(data: unknown): void {
    this.base = { data };
  }

  /**
   * Runs `read`, whose answer nobody sees (a render React throws away), with the waiting
   * shell's data left out: a read the results do not answer reads the cache as it is. The
   * cache then holds nothing at all (any write would have restored the shell's data first).
   */
  aside<T>(read: () => T): T {
    this.asideDepth++;
    try {
      return read();
    } finally {
      this.asideDepth--;
    }
  }

  /** Whether results are still served (nothing has changed the cache since they were fetched). */
  get active(): boolean {
    return this.serving;
  }

  /**
   * The cache's extract without the results kept aside, and those results in the order they
   * arrived: together, what the cache would hold had each been written on arrival.
   */
  extractApart(): { cache: unknown; writes: readonly DirectResult[] } {
    this.restoreBase();
    return { cache: this.call('extract'), writes: this.pending };
  }

  /**
   * Restores the shell's cache if it waits (see {@link restoreLater}), then writes the results
   * kept aside into the cache, in one transaction, in arrival order.
   */
  flush(): void {
    this.restoreBase();
    if (this.pending.length === 0) return;
    const results = this.pending;
    this.pending = [];
    const write = this.own.get('write') as Method;
    this.cache.batch({
      optimistic: false,
      update: () => {
        for (const { query, variables, data } of results) {
          write.call(this.cache, { query, variables, result: data, dataId: ROOT });
        }
      },
    });
  }

  /** Puts the cache's own methods back. */
  release(): void {
    const target = this.cache as unknown as Record<string, unknown>;
    for (const [name, method] of this.own) {
      if (this.hadOwn.has(name)) target[name] = method;
      else delete target[name];
    }
    this.results.clear();
    this.pending = [];
    this.base = undefined;
  }

  private restoreBase(): void {
    const base = this.base;
    if (base === undefined) return;
    this.base = undefined;
    this.call('restore', base.data);
  }

  private diff(options: DiffOptions, own: Method): unknown {
    if (this.serving && (options.id === undefined || options.id === ROOT)) {
      const data = this.results
        .get(options.query)
        ?.get(canonicalStringify(options.variables ?? {}));
      if (data !== undefined) {
        this.counts.direct++;
        return { result: data, complete: true };
      }
    }
    if (this.asideDepth === 0 || this.base === undefined) this.flush();
    return own.call(this.cache, options);
  }

  private stop(): void {
    this.serving = false;
    this.results.clear();
  }

  private call(name: string, ...args: unknown[]): unknown {
    return (this.own.get(name) as Method).apply(this.cache, args);
  }
}

interface ApolloCacheLike {
  batch(options: { optimistic: boolean; update(): void }): unknown;
}
