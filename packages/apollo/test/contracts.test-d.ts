// Type tests of @kiln/apollo's public options, run by vitest's typecheck (`*.test-d.ts`).
import type { ApolloClient } from '@apollo/client';
import {
  type ApolloPluginOptions,
  type ApolloStrategy,
  apollo,
  defaultForwardedHeaders,
  forwardHeaders,
} from '@kiln/apollo';
import {
  type ApolloClientPlugin,
  type ApolloClientPluginOptions,
  apolloClient,
} from '@kiln/apollo/client';
import type { KilnClientPlugin, KilnPlugin, RenderContext, RequestInfo } from '@kiln/core';
import { describe, expectTypeOf, it } from 'vitest';

describe('apollo() options', () => {
  it('make the server plugin from a per-request client factory or a client', () => {
    expectTypeOf(apollo).parameters.toEqualTypeOf<[options: ApolloPluginOptions]>();
    expectTypeOf(apollo).returns.toEqualTypeOf<KilnPlugin>();
    expectTypeOf<ApolloPluginOptions['makeClient']>().toEqualTypeOf<
      ((ctx: RenderContext) => ApolloClient | Promise<ApolloClient>) | undefined
    >();
    expectTypeOf<ApolloPluginOptions['client']>().toEqualTypeOf<ApolloClient | undefined>();
    expectTypeOf({
      makeClient: async (_ctx: RenderContext) => ({}) as ApolloClient,
    }).toExtend<ApolloPluginOptions>();
  });

  it('name the strategies, the state key and the prerender bound', () => {
    expectTypeOf<ApolloStrategy>().toEqualTypeOf<'suspend' | 'prerender'>();
    expectTypeOf<ApolloPluginOptions['strategy']>().toEqualTypeOf<ApolloStrategy | undefined>();
    expectTypeOf<{ strategy: 'stream' }>().not.toExtend<ApolloPluginOptions>();
    expectTypeOf<ApolloPluginOptions['key']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ApolloPluginOptions['maxPrerenders']>().toEqualTypeOf<number | undefined>();
  });

  it('forward headers from a context, a request or Headers as a plain record', () => {
    expectTypeOf(forwardHeaders).toBeCallableWith({} as RenderContext);
    expectTypeOf(forwardHeaders).toBeCallableWith({} as RequestInfo, ['cookie']);
    expectTypeOf(forwardHeaders).toBeCallableWith(new Headers());
    expectTypeOf(forwardHeaders).returns.toEqualTypeOf<Record<string, string>>();
    expectTypeOf(defaultForwardedHeaders).toEqualTypeOf<readonly string[]>();
  });
});

describe('apolloClient() options', () => {
  it('need a client factory; the key and the force-fetch delay are optional', () => {
    expectTypeOf<ApolloClientPluginOptions['makeClient']>().toEqualTypeOf<() => ApolloClient>();
    expectTypeOf<{ key: string }>().not.toExtend<ApolloClientPluginOptions>();
    expectTypeOf<ApolloClientPluginOptions['key']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ApolloClientPluginOptions['forceFetchDelayMs']>().toEqualTypeOf<
      number | undefined
    >();
  });

  it('give a client plugin that exposes the browser client once created', () => {
    expectTypeOf(apolloClient).parameters.toEqualTypeOf<[options: ApolloClientPluginOptions]>();
    expectTypeOf(apolloClient).returns.toEqualTypeOf<ApolloClientPlugin>();
    expectTypeOf<ApolloClientPlugin>().toExtend<KilnClientPlugin>();
    expectTypeOf<ApolloClientPlugin['client']>().toEqualTypeOf<ApolloClient | undefined>();
  });
});
