import { STATUS_CODES } from 'node:http';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apollo, forwardHeaders } from '@kiln/apollo';
import { type KilnPlugin, normalizeRequest, renderToHtml, useRenderContext } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import {
  ASSETS_PREFIX,
  contentSecurityPolicy,
  createNonce,
  createShopGraphQL,
  createShopStore,
  isFilePath,
  listening,
  type RunningServer,
  type ServerOptions,
} from '@kiln/example-app';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ReactNode } from 'react';
import { createStaticHandler, createStaticRouter, StaticRouterProvider } from 'react-router';
import { defaultClientDir, readManifest } from './build';
import { routerState } from './router-state';
import { createRoutes } from './routes';
import { PageResponseProvider } from './shared';
import { type ClientConfig, CONFIG_STATE_KEY } from './state';

/** The query parameter that asks for the complete (buffered) page, for browsers without JavaScript. */
const NO_SCRIPT_PARAM = 'noscript';

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Security headers, the browser's configuration, and a `<noscript>` way to the complete page. */
function pagePlugin(client: ClientConfig): KilnPlugin {
  return {
    name: 'example-page',
    setup(ctx) {
      ctx.setHeader(
        'content-security-policy',
        contentSecurityPolicy(ctx.nonce ?? '', client.graphqlUrl),
      );
      ctx.setHeader('x-content-type-options', 'nosniff');
      ctx.setHeader('referrer-policy', 'same-origin');
      ctx.setState(CONFIG_STATE_KEY, client);
      const complete = new URL(ctx.url);
      complete.searchParams.set(NO_SCRIPT_PARAM, '1');
      const refresh = `<noscript><meta http-equiv="refresh" content="0; url=${escapeAttribute(complete.pathname + complete.search)}"></noscript>`;
      return { head: () => (ctx.mode === 'stream' ? refresh : '') };
    },
  };
}

/** Lets the shared pages set the status (404, 503) through this request's render context. */
function PageResponse(props: { children: ReactNode }): ReactNode {
  return <PageResponseProvider value={useRenderContext()}>{props.children}</PageResponseProvider>;
}

/** Sends a loader's `Response` (a redirect, with its `Location` and `Set-Cookie`) as it is. */
async function sendResponse(res: Response, response: globalThis.Response): Promise<void> {
  res.status(response.status);
  for (const [name, value] of response.headers) res.append(name, value);
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** Errors before rendering (an undecodable path is a 400) get a plain answer, never a stack. */
function plainErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(error);
    return;
  }
  const raw = (error as { status?: unknown } | null)?.status;
  const status = typeof raw === 'number' && raw >= 400 && raw < 600 ? raw : 500;
  if (status >= 500) console.error('[kiln/example] request failed:', error);
  res
    .status(status)
    .type('text/plain')
    .send(STATUS_CODES[status] ?? 'Error');
}

/**
 * The demo shop routed by React Router in Express 5. Per request: an Apollo client, the
 * routes' loaders run by `createStaticHandler` (a redirect is answered at once, before any
 * HTML), then `<StaticRouterProvider>` rendered by Kiln with the loaders' status and data.
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const assetsDir = options.assetsDir ?? defaultClientDir;
  const manifest = await readManifest(assetsDir);
  const graphql = createShopGraphQL({
    store: createShopStore(),
    picksLatencyMs: options.picksLatencyMs ?? 800,
  });
  const remote = options.graphqlUrl;
  const page = pagePlugin({ graphqlUrl: remote ?? '/graphql' });
  const embeddedFetch: typeof fetch = async (input, init) =>
    graphql.fetch(new globalThis.Request(input, init));
  const onError =
    options.onError ??
    ((error: unknown, info: { phase: string }) =>
      console.error(`[kiln/example] ${info.phase}:`, error));

  const app = express();
  app.disable('x-powered-by');
  app.use(
    ASSETS_PREFIX,
    express.static(assetsDir, { immutable: true, maxAge: '1y', index: false }),
  );
  app.all('/graphql', (req, res) => graphql(req, res));
  // A file the browser asks for on its own (/favicon.ico, a source map) is not a page: 404
  // before the catch-all, or every one of them would render the whole app with its queries.
  app.get('/{*path}', async (req, res) => {
    if (isFilePath(req.path)) {
      res.status(404).type('text/plain').send('Not Found');
      return;
    }
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const info = normalizeRequest(req);
    const request = new globalThis.Request(info.url, {
      headers: info.headers,
      signal: controller.signal,
    });
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({
        uri: remote ?? 'http://embedded.invalid/graphql',
        fetch: remote ? fetch : embeddedFetch,
        headers: forwardHeaders(info.headers, ['cookie', 'accept-language']),
      }),
    });
    const handler = createStaticHandler(createRoutes({ client }));
    const context = await handler.query(request);
    if (context instanceof globalThis.Response) {
      await sendResponse(res, context);
      return;
    }
    const router = createStaticRouter(handler.dataRoutes, context);
    const result = await renderToHtml(
      <PageResponse>
        <StaticRouterProvider router={router} context={context} hydrate={false} />
      </PageResponse>,
      {
        request: req,
        nonce: createNonce(),
        mode: info.url.searchParams.has(NO_SCRIPT_PARAM) ? 'buffer' : (options.mode ?? 'auto'),
        timeoutMs: options.timeoutMs ?? 10_000,
        signal: controller.signal,
        plugins: [page, routerState(context), emotion(), apollo({ client })],
        bootstrapModules: [ASSETS_PREFIX + manifest.entry],
        onError,
      },
    );
    result.pipe(res);
  });
  app.use(plainErrors);

  const port = options.port ?? 3000;
  return listening(options.host ? app.listen(port, options.host) : app.listen(port));
}
