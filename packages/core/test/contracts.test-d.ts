// Type tests of @kiln/core's public contracts, run by vitest's typecheck (`*.test-d.ts`).
// They pin what users write against: a change that breaks a plugin or a caller fails here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import {
  type KilnPlugin,
  type PluginInstance,
  type RedirectInfo,
  type RenderContext,
  type RenderDiagnostics,
  type RenderErrorInfo,
  type RenderMode,
  type RenderOptions,
  type RenderResult,
  renderToHtml,
} from '@kiln/core';
import type { ReactNode } from 'react';
import { describe, expectTypeOf, it } from 'vitest';

describe('KilnPlugin', () => {
  it('is a name and a setup that returns the request instance, sync or async', () => {
    expectTypeOf<KilnPlugin['name']>().toEqualTypeOf<string>();
    expectTypeOf<KilnPlugin['setup']>().parameters.toEqualTypeOf<[ctx: RenderContext]>();
    expectTypeOf<KilnPlugin['setup']>().returns.toEqualTypeOf<
      PluginInstance | Promise<PluginInstance>
    >();
    const sync = { name: 'sync', setup: () => ({}) };
    const async = { name: 'async', setup: async (_ctx: RenderContext) => ({ head: () => '' }) };
    expectTypeOf(sync).toExtend<KilnPlugin>();
    expectTypeOf(async).toExtend<KilnPlugin>();
  });

  it('needs a name, and a setup that returns an instance', () => {
    expectTypeOf<{ setup: () => PluginInstance }>().not.toExtend<KilnPlugin>();
    expectTypeOf<{ name: string }>().not.toExtend<KilnPlugin>();
    expectTypeOf<{ name: string; setup: () => string }>().not.toExtend<KilnPlugin>();
  });

  it('has a read-only name', () => {
    const plugin: KilnPlugin = { name: 'a', setup: () => ({}) };
    // @ts-expect-error the name is read-only
    plugin.name = 'b';
  });
});

describe('PluginInstance', () => {
  it('has only optional hooks', () => {
    expectTypeOf({}).toExtend<PluginInstance>();
    expectTypeOf<keyof PluginInstance>().toEqualTypeOf<
      | 'wrap'
      | 'prepare'
      | 'head'
      | 'flush'
      | 'end'
      | 'dispose'
      | 'diagnostics'
      | 'idle'
      | 'snapshot'
      | 'restore'
    >();
  });

  it('gives each phase its signature', () => {
    type Hooks = Required<PluginInstance>;
    expectTypeOf<Hooks['wrap']>().toEqualTypeOf<(app: ReactNode) => ReactNode>();
    expectTypeOf<Hooks['prepare']>().toEqualTypeOf<
      (app: ReactNode, ctx: RenderContext) => Promise<void>
    >();
    expectTypeOf<Hooks['head']>().toEqualTypeOf<() => string>();
    expectTypeOf<Hooks['flush']>().toEqualTypeOf<() => string>();
    expectTypeOf<Hooks['end']>().toEqualTypeOf<() => string | Promise<string>>();
    expectTypeOf<Hooks['dispose']>().toEqualTypeOf<() => void | Promise<void>>();
    expectTypeOf<Hooks['diagnostics']>().toEqualTypeOf<
      () => Record<string, number | string | boolean>
    >();
  });

  it('refuses hooks that return the wrong thing', () => {
    expectTypeOf<{ head: () => Promise<string> }>().not.toExtend<PluginInstance>();
    expectTypeOf<{ flush: () => Promise<string> }>().not.toExtend<PluginInstance>();
    expectTypeOf<{ prepare: () => void }>().not.toExtend<PluginInstance>();
  });
});

describe('RenderOptions', () => {
  it('are all optional', () => {
    expectTypeOf({}).toExtend<RenderOptions>();
    expectTypeOf(renderToHtml).parameters.toEqualTypeOf<
      [element: ReactNode, options?: RenderOptions]
    >();
    expectTypeOf(renderToHtml).returns.toEqualTypeOf<Promise<RenderResult>>();
  });

  it('take a Web Request or a Node IncomingMessage, and readonly plugin lists', () => {
    expectTypeOf<RenderOptions['request']>().toEqualTypeOf<Request | IncomingMessage | undefined>();
    expectTypeOf<RenderOptions['plugins']>().toEqualTypeOf<readonly KilnPlugin[] | undefined>();
    const plugins = [{ name: 'a', setup: () => ({}) }] as const;
    expectTypeOf({ plugins }).toExtend<RenderOptions>();
  });

  it('name the modes, the error callback and the bot override', () => {
    expectTypeOf<RenderMode>().toEqualTypeOf<'auto' | 'stream' | 'buffer'>();
    expectTypeOf<RenderOptions['mode']>().toEqualTypeOf<RenderMode | undefined>();
    expectTypeOf<{ mode: 'streaming' }>().not.toExtend<RenderOptions>();
    expectTypeOf<NonNullable<RenderOptions['onError']>>().toEqualTypeOf<
      (error: unknown, info: RenderErrorInfo) => void
    >();
    expectTypeOf<RenderErrorInfo['phase']>().toEqualTypeOf<
      'shell' | 'boundary' | 'plugin' | 'context' | 'stream' | 'timeout' | 'abort'
    >();
    expectTypeOf<RenderOptions['isBot']>().toEqualTypeOf<
      boolean | ((userAgent: string) => boolean) | undefined
    >();
    expectTypeOf<RenderOptions['nonce']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<RenderOptions['timeoutMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<RenderOptions['signal']>().toEqualTypeOf<AbortSignal | undefined>();
  });
});

describe('RenderResult', () => {
  it('has a read-only status, headers and redirect', () => {
    expectTypeOf<RenderResult['status']>().toEqualTypeOf<number>();
    expectTypeOf<RenderResult['headers']>().toEqualTypeOf<Headers>();
    expectTypeOf<RenderResult['redirect']>().toEqualTypeOf<RedirectInfo | undefined>();
    expectTypeOf<RenderResult['finished']>().toEqualTypeOf<Promise<RenderDiagnostics>>();
    const result = {} as RenderResult;
    // @ts-expect-error the status is read-only: set it from the app with ctx.setStatus()
    result.status = 404;
  });

  it('has three sinks: pipe keeps the writable type, toResponse and text', () => {
    const result = {} as RenderResult;
    expectTypeOf(result.pipe(new PassThrough())).toEqualTypeOf<PassThrough>();
    expectTypeOf(result.pipe({} as ServerResponse)).toEqualTypeOf<ServerResponse>();
    expectTypeOf(result.toResponse).parameters.toEqualTypeOf<[init?: ResponseInit]>();
    expectTypeOf(result.toResponse()).toEqualTypeOf<Response>();
    expectTypeOf(result.text()).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error pipe takes a Node writable, not a Web stream
    result.pipe(new WritableStream());
  });
});
