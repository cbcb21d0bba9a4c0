import type { IncomingMessage } from 'node:http';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apollo, forwardHeaders } from '@kiln/apollo';
import {
  type KilnPlugin,
  type RenderContext,
  type RenderErrorInfo,
  type RenderMode,
  type RenderOptions,
  type RenderResult,
  renderToHtml,
  useRenderContext,
} from '@kiln/core';
import { emotion } from '@kiln/emotion';
import type { ReactNode } from 'react';
import { App } from '../app/App';
import { PERSONAL_OPERATIONS } from '../app/queries';
import { PageResponseProvider } from '../app/response';
import { CLIENT_CONFIG_KEY, type ClientConfig } from '../config';
import { createShopGraphQL, type ShopGraphQL } from '../graphql/schema';
import { createShopStore } from '../graphql/store';
import { ASSETS_PREFIX, defaultAssetsDir, readClientManifest } from './assets';
import { contentSecurityPolicy, createNonce } from './csp';

/** Options of {@link createShop}; every server reads them from its environment. */
export interface ShopOptions {
  /** A remote GraphQL endpoint for the pages (`GRAPHQL_URL`). Default: the embedded `/graphql`. */
  graphqlUrl?: string;
  /** Latency of the staff picks query, in milliseconds (default 800). */
  picksLatencyMs?: number;
  /**
   * Holds the staff picks back until the returned promise resolves (after their latency). Tests
   * use it to see the shell arrive before the picks exist; see `ShopGraphQLOptions.picksGate`.
   */
  picksGate?: () => Promise<unknown>;
  /** Folder of the client build (default: `examples/app/dist/client`). */
  assetsDir?: string;
  /** Render mode (default `auto`: complete HTML for crawlers, streaming for browsers). */
  mode?: RenderMode;
  /** Aborts renders that take longer (default 10 s). */
  timeoutMs?: number;
  /** Where render errors go (default: `console.error`). */
  onError?: (error: unknown, info: RenderErrorInfo) => void;
  /**
   * Renders a page (default `renderToHtml`). A page cache plugs in here:
   * `render: (element, options) => pages.render(element, options)`.
   */
  render?: (element: ReactNode, options: RenderOptions) => Promise<RenderResult>;
  /**
   * Builds the front page for partial pre-rendering (`KILN_CACHE=partial`): the visitor's header
   * and prices are Suspense boundaries, and `apollo({ personal })` names the operations that
   * depend on the visitor, so a shell cache stores the rest once.
   */
  partial?: boolean;
}

/** What a server needs to serve the shop: pages, GraphQL and static assets. */
export interface Shop {
  /** Renders the page for one request. Send it with `result.pipe(res)` or `result.toResponse()`. */
  render(
    request: Request | IncomingMessage,
    init?: { signal?: AbortSignal },
  ): Promise<RenderResult>;
  /** The embedded GraphQL server: a Node request listener with a Web `fetch`. Mount it on `/graphql`. */
  graphql: ShopGraphQL;
  /** URL path prefix of the static assets (`/assets/`). */
  assetsPrefix: string;
  /** Folder to serve under {@link Shop.assetsPrefix}. Its files have hashed names: cache them forever. */
  assetsDir: string;
  /** The files of the client build (names relative to {@link Shop.assetsDir}). */
  assetFiles: readonly string[];
}

const EMBEDDED_GRAPHQL = 'http://embedded.invalid/graphql';

/** The query parameter that asks for the complete (buffered) page, for browsers without JavaScript. */
const NO_SCRIPT_PARAM = 'noscript';

function withoutScript(url: URL): string {
  const target = new URL(url);
  target.searchParams.set(NO_SCRIPT_PARAM, '1');
  return target.pathname + target.search;
}

function wantsNoScript(request: Request | IncomingMessage): boolean {
  return new URL(request.url ?? '/', 'http://localhost').searchParams.has(NO_SCRIPT_PARAM);
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Puts the request's own markup in place: render context to the pages, the URL to the router. */
function ServerApp(props: { partial: boolean }): ReactNode {
  const ctx = useRenderContext();
  return (
    <PageResponseProvider value={ctx}>
      <App url={ctx.url.href} partial={props.partial} />
    </PageResponseProvider>
  );
}

/**
 * Creates the demo shop for one server process: the in-memory data, the GraphQL server and a
 * `render(request)` that gives every request its own nonce, Apollo client and emotion cache.
 *
 * @example
 * const shop = await createShop({ graphqlUrl: process.env.GRAPHQL_URL });
 * app.use('/graphql', shop.graphql);
 * app.get('/{*path}', async (req, res) => (await shop.render(req)).pipe(res));
 */
export async function createShop(options: ShopOptions = {}): Promise<Shop> {
  const assetsDir = options.assetsDir ?? defaultAssetsDir;
  const manifest = await readClientManifest(assetsDir);
  const graphql = createShopGraphQL({
    store: createShopStore(),
    picksLatencyMs: options.picksLatencyMs ?? 800,
    picksGate: options.picksGate,
  });
  const remote = options.graphqlUrl;
  const partial = options.partial === true;
  const client: ClientConfig = {
    graphqlUrl: remote ?? '/graphql',
    ...(partial ? { partial } : {}),
  };
  const onError =
    options.onError ??
    ((error: unknown, info: RenderErrorInfo) =>
      console.error(`[kiln/example] ${info.phase}:`, error));

  const page: KilnPlugin = {
    name: 'example-page',
    setup(ctx: RenderContext) {
      ctx.setHeader(
        'content-security-policy',
        contentSecurityPolicy(ctx.nonce ?? '', client.graphqlUrl),
      );
      ctx.setHeader('x-content-type-options', 'nosniff');
      ctx.setHeader('referrer-policy', 'same-origin');
      ctx.setState(CLIENT_CONFIG_KEY, client);
      return {
        // Streamed Suspense boundaries need JavaScript to appear. A browser without it follows
        // this refresh to the same page rendered complete (see `render` below).
        head: () =>
          ctx.mode === 'stream'
            ? `<noscript><meta http-equiv="refresh" content="0; url=${escapeAttribute(withoutScript(ctx.url))}"></noscript>`
            : '',
      };
    },
  };

  const embeddedFetch: typeof fetch = async (input, init) =>
    graphql.fetch(new Request(input, init));
  const makeClient = (ctx: RenderContext) =>
    new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({
        uri: remote ?? EMBEDDED_GRAPHQL,
        fetch: remote ? fetch : embeddedFetch,
        headers: forwardHeaders(ctx, ['cookie', 'accept-language']),
      }),
    });

  return {
    graphql,
    assetsDir,
    assetsPrefix: ASSETS_PREFIX,
    assetFiles: manifest.files,
    render: (request, init) =>
      (options.render ?? renderToHtml)(<ServerApp partial={partial} />, {
        request,
        nonce: createNonce(),
        mode: wantsNoScript(request) ? 'buffer' : (options.mode ?? 'auto'),
        timeoutMs: options.timeoutMs ?? 10_000,
        signal: init?.signal,
        plugins: [
          page,
          emotion(),
          apollo({
            makeClient,
            ...(partial
              ? { personal: ({ operationName }) => PERSONAL_OPERATIONS.has(operationName ?? '') }
              : {}),
          }),
        ],
        bootstrapModules: [ASSETS_PREFIX + manifest.entry],
        onError,
      }),
  };
}
