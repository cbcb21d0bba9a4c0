import cluster from 'node:cluster';
import { type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { PageCache, PartialCache } from '@kiln/cache';
import { detectBot, type KilnPlugin, type RenderOptions } from '@kiln/core';
import {
  createShop,
  isFilePath,
  listening,
  type RunningServer,
  type ServerOptions,
} from '@kiln/example-app';
import express, { type NextFunction, type Request, type Response } from 'express';
import { invalidateHandler } from './admin';

/**
 * Errors raised before Kiln renders (an undecodable path is a 400) get a plain answer with their
 * status: never Express's default page, which shows the stack outside production.
 */
function plainErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(error);
    return;
  }
  const { status: raw } =
    typeof error === 'object' && error !== null ? (error as { status?: unknown }) : {};
  const status = typeof raw === 'number' && raw >= 400 && raw < 600 ? raw : 500;
  if (status >= 500) console.error('[kiln/example] request failed:', error);
  res
    .status(status)
    .type('text/plain')
    .send(STATUS_CODES[status] ?? 'Error');
}

/** Options of the Express example: the shared ones, and an optional page cache. */
export interface ExpressServerOptions extends ServerOptions {
  /**
   * Serves anonymous pages from this cache (`KILN_CACHE=memory|redis`), or every page from its
   * shell (`KILN_CACHE=partial`, with `partial: true`); see `src/cache.ts`.
   */
  pages?: PageCache | PartialCache;
  /**
   * Serves crawlers from this page cache instead of `pages` (with `KILN_CACHE=partial`: a
   * crawler gets a whole page, and any client can say it is one).
   */
  crawlers?: PageCache;
  /**
   * Enables `POST /__kiln/invalidate?tag=…` for requests bearing this token
   * (`KILN_ADMIN_TOKEN`); see `src/admin.ts`. Only with `pages`.
   */
  adminToken?: string;
}

const SLUG = /^\/products\/([a-z0-9-]{1,64})$/;

/** The `user-agent` of a Node or Web request. */
function userAgentOf(request: RenderOptions['request']): string | null {
  if (request === undefined) return null;
  if (request instanceof globalThis.Request) return request.headers.get('user-agent');
  const value = request.headers['user-agent'];
  return typeof value === 'string' ? value : null;
}

/**
 * Tags every page the cache stores with `page`, and a product page with `product:<slug>`, so
 * `invalidate('product:kettle')` drops that product's page on every process sharing the cache.
 */
function pageTags(pages: PageCache): KilnPlugin {
  return {
    name: 'example-page-tags',
    setup(ctx) {
      const slug = SLUG.exec(ctx.url.pathname)?.[1];
      pages.controlFor(ctx).tag('page', ...(slug ? [`product:${slug}`] : []));
      return {};
    },
  };
}

/**
 * Stops accepting connections and resolves once the requests in flight are answered: idle
 * keep-alive connections are closed at once, busy ones as soon as their response is sent.
 */
function drainable(server: Server): () => Promise<void> {
  let closing = false;
  server.on('request', (_req, res: ServerResponse) =>
    res.on('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    }),
  );
  return () =>
    new Promise<void>((resolve, reject) => {
      closing = true;
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
    });
}

/**
 * The demo shop in Express 5: static assets, the GraphQL endpoint, and every other GET
 * rendered by Kiln (or served by the page cache) and piped into the response.
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ExpressServerOptions = {}): Promise<RunningServer> {
  const { pages, crawlers, adminToken, ...shopOptions } = options;
  const tags = pages && 'controlFor' in pages ? pageTags(pages) : undefined;
  const crawlerTags = crawlers ? pageTags(crawlers) : undefined;
  const shop = await createShop({
    ...shopOptions,
    render: pages
      ? (element, renderOptions) => {
          const crawler =
            crawlers !== undefined && detectBot(userAgentOf(renderOptions.request), undefined);
          const cache = crawler ? crawlers : pages;
          const tagging = crawler ? crawlerTags : tags;
          return cache.render(element, {
            ...renderOptions,
            plugins: [...(renderOptions.plugins ?? []), ...(tagging ? [tagging] : [])],
          });
        }
      : undefined,
  });
  const app = express();
  app.disable('x-powered-by');
  // Under `WORKERS=N`, which worker answered (its number, 1…): the load is spread over them.
  const worker = cluster.isWorker ? String(cluster.worker?.id) : undefined;
  if (worker) {
    app.use((_req, res, next) => {
      res.set('x-kiln-worker', worker);
      next();
    });
  }
  if (pages && adminToken) app.post('/__kiln/invalidate', invalidateHandler(pages, adminToken));

  app.use(
    shop.assetsPrefix,
    express.static(shop.assetsDir, { immutable: true, maxAge: '1y', index: false }),
  );
  app.all('/graphql', (req, res) => shop.graphql(req, res));
  // A file the browser asks for on its own (/favicon.ico, a source map) is not a page: 404
  // before the catch-all, or every one of them would render the whole app with its queries.
  app.get('/{*path}', async (req, res) => {
    if (isFilePath(req.path)) {
      res.status(404).type('text/plain').send('Not Found');
      return;
    }
    const result = await shop.render(req);
    result.pipe(res);
  });
  app.use(plainErrors);

  const port = options.port ?? 3000;
  const server = options.host ? app.listen(port, options.host) : app.listen(port);
  const close = drainable(server);
  const running = await listening(server);
  return { url: running.url, close };
}
