// Type tests of @kiln/cache's public options, run by vitest's typecheck (`*.test-d.ts`).

import {
  type InvalidateTarget,
  type MemoryStoreOptions,
  memoryStore,
  type PageCache,
  type PageCacheOptions,
  type PageResult,
  pageCache,
  type RedisStoreOptions,
  type redisStore,
  type Store,
} from '@kiln/cache';
import {
  type DataCacheLinkOptions,
  type DataCacheOptions,
  type DataCachePolicy,
  dataCache,
} from '@kiln/cache/apollo';
import type { RenderOptions, RenderResult, RequestInfo } from '@kiln/core';
import type { ReactNode } from 'react';
import { describe, expectTypeOf, it } from 'vitest';

describe('page cache options', () => {
  it('need a store and a ttl; the rest is optional', () => {
    expectTypeOf({ store: memoryStore(), ttl: 60_000 }).toExtend<PageCacheOptions>();
    expectTypeOf<{ store: Store }>().not.toExtend<PageCacheOptions>();
    expectTypeOf<{ ttl: number }>().not.toExtend<PageCacheOptions>();
    expectTypeOf(pageCache).parameters.toEqualTypeOf<[options: PageCacheOptions]>();
    expectTypeOf(pageCache).returns.toEqualTypeOf<PageCache>();
  });

  it('type the key, the cacheable rule, the header and the error callback', () => {
    expectTypeOf<PageCacheOptions['staleWhileRevalidate']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<PageCacheOptions['vary']>().toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf<PageCacheOptions['key']>().toEqualTypeOf<
      ((request: RequestInfo) => string | undefined) | undefined
    >();
    expectTypeOf<PageCacheOptions['cacheable']>().toEqualTypeOf<
      ((request: RequestInfo) => boolean) | undefined
    >();
    expectTypeOf<PageCacheOptions['header']>().toEqualTypeOf<string | false | undefined>();
    expectTypeOf<PageCacheOptions['onError']>().toEqualTypeOf<
      ((error: unknown) => void) | undefined
    >();
    expectTypeOf<{ store: Store; ttl: number; header: true }>().not.toExtend<PageCacheOptions>();
  });

  it('render like renderToHtml and return a RenderResult with what the cache did', () => {
    expectTypeOf<PageCache['render']>().parameters.toEqualTypeOf<
      [element: ReactNode, options: RenderOptions]
    >();
    expectTypeOf<PageCache['render']>().returns.toEqualTypeOf<Promise<PageResult>>();
    expectTypeOf<PageResult>().toExtend<RenderResult>();
    expectTypeOf<PageCache['invalidate']>().parameters.toEqualTypeOf<[target: InvalidateTarget]>();
    expectTypeOf<PageCache['invalidate']>().returns.toEqualTypeOf<Promise<number>>();
  });

  it('invalidate by tag (a string), key, prefix or tag object', () => {
    expectTypeOf('product:42').toExtend<InvalidateTarget>();
    expectTypeOf({ key: '/' }).toExtend<InvalidateTarget>();
    expectTypeOf({ prefix: '/products/' }).toExtend<InvalidateTarget>();
    expectTypeOf({ tag: 'product:42' }).toExtend<InvalidateTarget>();
    expectTypeOf({ path: '/' }).not.toExtend<InvalidateTarget>();
  });
});

describe('stores', () => {
  it('memoryStore and redisStore take optional options and give a Store', () => {
    expectTypeOf(memoryStore).parameters.toEqualTypeOf<[options?: MemoryStoreOptions]>();
    expectTypeOf(memoryStore()).toExtend<Store>();
    expectTypeOf<MemoryStoreOptions['maxBytes']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ReturnType<typeof redisStore>>().toExtend<Store>();
    expectTypeOf<RedisStoreOptions['timeoutMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<RedisStoreOptions['onError']>().toEqualTypeOf<
      ((error: Error) => void) | undefined
    >();
  });
});

describe('data cache options', () => {
  it('need a store; operations are policies by operation name', () => {
    expectTypeOf({ store: memoryStore() }).toExtend<DataCacheOptions>();
    expectTypeOf<{
      operations: Record<string, DataCachePolicy>;
    }>().not.toExtend<DataCacheOptions>();
    expectTypeOf<DataCacheOptions['operations']>().toEqualTypeOf<
      Readonly<Record<string, DataCachePolicy>> | undefined
    >();
    expectTypeOf(dataCache).parameters.toEqualTypeOf<[options: DataCacheOptions]>();
  });

  it('take fixed tags or tags computed from the variables and data', () => {
    expectTypeOf({ ttl: 1, tags: ['products'] }).toExtend<DataCachePolicy>();
    expectTypeOf({
      tags: (variables: Record<string, unknown>) => [`product:${String(variables.id)}`],
    }).toExtend<DataCachePolicy>();
    expectTypeOf<{ tags: string }>().not.toExtend<DataCachePolicy>();
    expectTypeOf<DataCachePolicy['allowCredentials']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<DataCacheLinkOptions['headers']>().toEqualTypeOf<
      Readonly<Record<string, string>> | undefined
    >();
  });
});
