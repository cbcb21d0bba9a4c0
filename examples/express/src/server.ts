import type { PageCache } from '@kiln/cache';
import { createShop, listening, type RunningServer, type ServerOptions } from '@kiln/example-app';
import express from 'express';

/** Options of the Express example: the shared ones, and an optional page cache. */
export interface ExpressServerOptions extends ServerOptions {
  /** Serves anonymous pages from this cache (`KILN_CACHE=memory|redis`, see `src/cache.ts`). */
  pages?: PageCache;
}

/**
 * The demo shop in Express 5: static assets, the GraphQL endpoint, and every other GET
 * rendered by Kiln (or served by the page cache) and piped into the response.
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ExpressServerOptions = {}): Promise<RunningServer> {
  const { pages, ...shopOptions } = options;
  const shop = await createShop({
    ...shopOptions,
    render: pages ? (element, renderOptions) => pages.render(element, renderOptions) : undefined,
  });
  const app = express();
  app.disable('x-powered-by');

  app.use(
    shop.assetsPrefix,
    express.static(shop.assetsDir, { immutable: true, maxAge: '1y', index: false }),
  );
  app.all('/graphql', (req, res) => shop.graphql(req, res));
  app.get('/{*path}', async (req, res) => {
    const result = await shop.render(req);
    result.pipe(res);
  });

  const port = options.port ?? 3000;
  return listening(options.host ? app.listen(port, options.host) : app.listen(port));
}
