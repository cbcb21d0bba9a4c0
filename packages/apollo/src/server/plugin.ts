import type { ApolloClient, OperationVariables } from '@apollo/client';
import type { HookWrappers } from '@apollo/client/react/internal';
import { prerenderStatic } from '@apollo/client/react/ssr';
import {
  isPrerendering,
  type KilnPlugin,
  type PluginInstance,
  type RenderContext,
  requestInput,
} from '@kiln/core';
import { escapeJson, serialize, stateScript } from '@kiln/serialize';
import { getOperationAST } from 'graphql';
import { createElement, type ReactNode, use } from 'react';
import { prerenderToNodeStream } from 'react-dom/static';
import { KilnApolloError } from '../shared/errors';
import { KilnApolloProvider } from '../shared/provider';
import { isValidKey, queueName, type StreamChunk } from '../shared/transport';
import { directResultsObstacle } from './direct-results';
import { emptyStats, RequestSession, type ShellSnapshot } from './session';
import { serverHookWrappers } from './ssr-hooks';

/**
 * How `useQuery` data is resolved on the server.
 *
 * - `'suspend'` (default): one render. A `useQuery` whose data is missing fetches it and
 *   suspends; React retries only the waiting components.
 * - `'prerender'`: Apollo's `prerenderStatic` first renders the tree until no new `useQuery`
 *   starts a request (n + 1 renders for a waterfall of depth n), then Kiln renders the HTML
 *   from the full cache. Slower; for apps whose components cannot suspend during SSR.
 */
export type ApolloStrategy = 'suspend' | 'prerender';

/** Options of {@link apollo}. Give exactly one of `makeClient` and `client`. */
export interface ApolloPluginOptions {
  /**
   * Creates this request's client: `ssrMode: true` and a fresh `InMemoryCache` every time.
   * Receives the render context, e.g. for {@link forwardHeaders}.
   */
  makeClient?: (ctx: RenderContext) => ApolloClient | Promise<ApolloClient>;
  /** A client created for this one request (then create the plugin per request too). */
  client?: ApolloClient;
  /** See {@link ApolloStrategy}. Default `'suspend'`. */
  strategy?: ApolloStrategy;
  /** State key shared with `apolloClient()` in the browser. Letters, digits, `_`. Default `'apollo'`. */
  key?: string;
  /** Upper bound of prefetch renders with the `'prerender'` strategy. Default 50. */
  maxPrerenders?: number;
  /**
   * Partial pre-rendering (experimental): the operations whose result depends on the visitor
   * (their forwarded cookie or authorization). While `prerenderShell` renders the shell, a
   * hook asking for one of them suspends for good, so its Suspense boundary becomes a hole,
   * fetched for each request with that visitor's headers. The pre-render has no visitor and
   * forwards no header, so a personal operation left out here would put the guest's answer in
   * the shell. Default: none.
   */
  personal?: (operation: PersonalOperation) => boolean;
  /**
   * Serve each hook on the server the result fetched for it, instead of writing the result into
   * the request's normalised cache and reading it back: on the server that cache lives for one
   * request, so the write and the read are mostly wasted. The cache still gets every result, in
   * the order they arrived, before anything else reads or changes it (another query, a
   * fragment, an extract), and the browser gets the same writes Apollo would have made.
   *
   * Used only where a read returns what was written: an `InMemoryCache` with no `read`,
   * `merge` or `scalar` policies and no `dataMasking`, for queries without `@defer` or
   * `@client` fetched with `errorPolicy: 'none'`. Otherwise, or with `false`, every result goes
   * through the normalised cache as in Apollo. `diagnostics.plugins.apollo.direct` counts the
   * reads served this way. Default `true`.
   */
  directResults?: boolean;
}

/**
 * What {@link ApolloPluginOptions.personal} is asked about.
 *
 * @example
 * ```ts
 * import type { PersonalOperation } from '@kiln/apollo';
 *
 * const personal = (operation: PersonalOperation) =>
 *   operation.operationName === 'Viewer' || operation.operationName === 'Cart';
 * ```
 */
export interface PersonalOperation {
  /** The operation's name (`query Viewer { … }` → `Viewer`). */
  readonly operationName: string | undefined;
  /** Its variables. */
  readonly variables: OperationVariables | undefined;
}

const CLAIM = Symbol.for('@kiln/apollo/claimed');

type Claimable = ApolloClient & { [CLAIM]?: 'rendering' | 'done' };

/** The client's cache, claimed too: new clients around one module-level cache share its data. */
function cacheOf(client: Claimable): { [CLAIM]?: 'rendering' | 'done' } {
  return client.cache as unknown as { [CLAIM]?: 'rendering' | 'done' };
}

function claim(client: Claimable): void {
  const state = client[CLAIM];
  if (state !== undefined) {
    throw new KilnApolloError(
      'KILN_APOLLO_CLIENT_SHARED',
      state === 'rendering'
        ? 'the same ApolloClient is used by two requests at once, which would show one visitor the data of another; create a new client (and InMemoryCache) in makeClient(ctx) for every request'
        : 'this ApolloClient already served a previous request and its cache holds that visitor\u2019s data; create a new client (and InMemoryCache) in makeClient(ctx) for every request',
    );
  }
  const cache = cacheOf(client);
  const cacheState = cache[CLAIM];
  if (cacheState !== undefined) {
    throw new KilnApolloError(
      'KILN_APOLLO_CLIENT_SHARED',
      cacheState === 'rendering'
        ? 'the clients of two requests share one InMemoryCache at once, which would show one visitor the data of another; create a new InMemoryCache in makeClient(ctx) for every request'
        : 'this InMemoryCache already served a previous request and holds that visitor\u2019s data; create a new InMemoryCache in makeClient(ctx) for every request',
    );
  }
  client[CLAIM] = 'rendering';
  cache[CLAIM] = 'rendering';
}

function chunkScript(key: string, chunk: StreamChunk | undefined): string {
  if (!chunk) return '';
  const name = queueName(key);
  // The serialized text as a JavaScript string literal: a string literal is JSON text, so the
  // same escape as any JSON in a script applies (`<`, U+2028, U+2029), in one native pass each.
  return `<script>(self.${name}=self.${name}||[]).push(${escapeJson(JSON.stringify(serialize(chunk)))})</script>`;
}

/** A request's open session: its client's session and what the provider hands to React. */
interface OpenSession {
  readonly session: RequestSession;
  readonly wrappers: HookWrappers;
  readonly countPass: () => void;
  /** Releases the session and marks its client and cache as used. */
  readonly close: () => void;
}

/** The opening of a session, readable synchronously by `use()` once it settled (React's protocol). */
type TrackedOpen = Promise<OpenSession> & {
  status?: 'pending' | 'fulfilled' | 'rejected';
  value?: OpenSession;
  reason?: unknown;
};

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function trackOpen(opened: OpenSession | Promise<OpenSession>): TrackedOpen {
  if (!(opened instanceof Promise)) {
    return Object.assign(Promise.resolve(opened), { status: 'fulfilled', value: opened } as const);
  }
  const tracked: TrackedOpen = opened;
  tracked.status = 'pending';
  tracked.then(
    (value) => {
      tracked.status = 'fulfilled';
      tracked.value = value;
    },
    (reason: unknown) => {
      tracked.status = 'rejected';
      tracked.reason = reason;
    },
  );
  return tracked;
}

/**
 * Apollo's context for the request's session. `prepare` has awaited the session before React
 * renders, so `use()` reads it synchronously; a plugin listed earlier that renders the tree in
 * its own `prepare` suspends here until the session is open.
 */
function SessionProvider(props: { pending: TrackedOpen; children?: ReactNode }): ReactNode {
  const { session, wrappers, countPass } = use<OpenSession>(props.pending as Promise<OpenSession>);
  return createElement(
    KilnApolloProvider,
    { client: session.client, wrappers, onRender: countPass },
    props.children,
  );
}

/**
 * The Apollo Client plugin for `renderToHtml`: every query the page needs is resolved on the
 * server, the HTML shows the data (personalised when the link forwards the visitor's headers),
 * and the browser cache receives exactly what the server fetched, so hydration makes no
 * request and shows no loading state.
 *
 * Per request it creates (or takes) one `ApolloClient`, refuses a client that another request
 * uses or used, resolves `useQuery` in the same render pass (see {@link ApolloStrategy}) and
 * the suspense hooks as they render, sends the results while streaming (each before the
 * boundary that shows it) or the final cache when buffering, cancels requests in flight when
 * the render aborts, reports failed queries through `onError`, and releases the client, its
 * subscriptions and Apollo's suspense-cache timers when the request ends.
 *
 * Diagnostics (`result.diagnostics.plugins.apollo`): `passes` (whole-tree renders),
 * `operations` (GraphQL operations sent), `fetches` (of those, started by Kiln),
 * `waterfallDepth`, `waitingMs` (time with at least one request in flight), `bytes` (of data
 * sent to the browser), `errors`, `direct` (hook reads answered from the fetched result; see
 * {@link ApolloPluginOptions.directResults}).
 *
 * @example
 * ```ts
 * import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
 * import { apollo, forwardHeaders } from '@kiln/apollo';
 *
 * const plugin = apollo({
 *   makeClient: (ctx) =>
 *     new ApolloClient({
 *       ssrMode: true,
 *       cache: new InMemoryCache(),
 *       link: new HttpLink({ uri: 'http://127.0.0.1:4000/graphql', headers: forwardHeaders(ctx) }),
 *     }),
 * });
 * // renderToHtml(<App />, { request, plugins: [plugin] })
 * ```
 */
export function apollo(options: ApolloPluginOptions): KilnPlugin {
  const key = options.key ?? 'apollo';
  const strategy = options.strategy ?? 'suspend';
  if (!isValidKey(key)) {
    throw new KilnApolloError(
      'KILN_APOLLO_BAD_OPTIONS',
      `the key ${JSON.stringify(key)} is not valid; use letters, digits and _ only`,
    );
  }
  if ((options.makeClient === undefined) === (options.client === undefined)) {
    throw new KilnApolloError(
      'KILN_APOLLO_BAD_OPTIONS',
      'apollo() needs exactly one of makeClient(ctx) and client; pass makeClient to create a client per request',
    );
  }
  if (strategy !== 'suspend' && strategy !== 'prerender') {
    throw new KilnApolloError(
      'KILN_APOLLO_BAD_OPTIONS',
      `unknown strategy ${JSON.stringify(strategy)}; use 'suspend' or 'prerender'`,
    );
  }
  return {
    name: 'apollo',
    setup(ctx: RenderContext): PluginInstance {
      // Nothing per request is created here: on a partial resume `setup` runs before the stored
      // prelude goes out, and the prelude needs no client. The client and the session open when
      // the plugin is first needed (restore, wrap or prepare), which on a resume is after the
      // first byte; `prepare` awaits them, so a failing `makeClient` still fails the render.
      const stream = ctx.mode === 'stream';
      let opened: OpenSession | undefined;
      let opening: TrackedOpen | undefined;
      let shell: ShellSnapshot | undefined;
      let disposed = false;

      const openSession = (client: Claimable): OpenSession => {
        claim(client);
        client.prioritizeCacheValues = true;
        const session = new RequestSession(client, {
          record: stream,
          direct: options.directResults !== false && directResultsObstacle(client) === undefined,
          onError: (error) => ctx.reportError(error, { phase: 'plugin', plugin: 'apollo' }),
        });
        const personal = options.personal;
        if (personal) {
          session.beforeFetch = (query, variables) => {
            if (!isPrerendering(ctx)) return;
            const operationName = getOperationAST(query)?.name?.value;
            if (personal({ operationName, variables })) {
              requestInput(ctx, `the personal GraphQL operation ${operationName ?? '(anonymous)'}`);
            }
          };
        }
        const onAbort = (): void => session.abort(ctx.signal.reason);
        if (ctx.signal.aborted) session.abort(ctx.signal.reason);
        else ctx.signal.addEventListener('abort', onAbort, { once: true });
        if (shell) session.restore(shell);
        return {
          session,
          wrappers: serverHookWrappers(session),
          countPass: () => session.countPass(),
          close: () => {
            ctx.signal.removeEventListener('abort', onAbort);
            session.dispose();
            client[CLAIM] = 'done';
            cacheOf(client)[CLAIM] = 'done';
          },
        };
      };

      const open = (): TrackedOpen => {
        if (opening) return opening;
        const made = options.client ?? options.makeClient!(ctx);
        const start = (client: ApolloClient): OpenSession => {
          if (!client || typeof (client as ApolloClient).watchQuery !== 'function') {
            throw new KilnApolloError(
              'KILN_APOLLO_NO_CLIENT',
              'makeClient(ctx) did not return an ApolloClient; return new ApolloClient({ ssrMode: true, cache: new InMemoryCache(), link })',
            );
          }
          opened = openSession(client as Claimable);
          // disposed while makeClient ran: the request is over, release at once
          if (disposed) opened.close();
          return opened;
        };
        opening = trackOpen(isThenable(made) ? Promise.resolve(made).then(start) : start(made));
        return opening;
      };

      const flush = (): string => {
        if (!stream || !opened) return '';
        const html = chunkScript(key, opened.session.takeChunk());
        opened.session.stats.bytes += html.length;
        return html;
      };

      const instance: PluginInstance = {
        wrap: (app: ReactNode) => {
          const pending = open();
          return createElement(SessionProvider, { pending }, app);
        },
        prepare: async (app: ReactNode) => {
          await open();
          if (strategy === 'prerender') {
            await prerenderStatic({
              tree: app,
              renderFunction: (tree) => prerenderToNodeStream(tree, { signal: ctx.signal }),
              signal: ctx.signal,
              ignoreResults: true,
              maxRerenders: options.maxPrerenders ?? 50,
            });
          }
        },
        head: flush,
        flush,
        end: () => {
          if (stream) return flush();
          if (!opened) return '';
          const html = stateScript(key, opened.session.bufferedState());
          opened.session.stats.bytes += html.length;
          return html;
        },
        dispose: () => {
          disposed = true;
          opened?.close();
        },
        diagnostics: () => ({ strategy, ...(opened?.session.stats ?? emptyStats()) }),
        idle: () => opened?.session.idle(),
        snapshot: () => opened?.session.snapshot(),
        restore: (snapshot) => {
          if (snapshot === undefined) return;
          const candidate = snapshot as ShellSnapshot;
          if (
            typeof candidate !== 'object' ||
            candidate === null ||
            typeof candidate.cache !== 'object' ||
            !Array.isArray(candidate.docs) ||
            !Array.isArray(candidate.ops)
          ) {
            throw new KilnApolloError(
              'KILN_APOLLO_BAD_OPTIONS',
              'the shell holds no snapshot of @kiln/apollo this version can read; pre-render the shell again with this version',
            );
          }
          if (opened) opened.session.restore(candidate);
          else shell = candidate;
        },
      };
      return instance;
    },
  };
}
