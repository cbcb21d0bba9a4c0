import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import {
  createShop,
  isFilePath,
  listening,
  type RunningServer,
  type ServerOptions,
} from '@kiln/example-app';
import { Hono } from 'hono';

/**
 * The demo shop in Hono 4 on Node: static assets, the GraphQL endpoint, and every other GET
 * rendered by Kiln and returned as a Web `Response` (streamed body).
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const shop = await createShop(options);
  const app = new Hono();

  app.use(
    `${shop.assetsPrefix}*`,
    serveStatic({
      root: shop.assetsDir,
      rewriteRequestPath: (path) => path.slice(shop.assetsPrefix.length),
      onFound: (_path, c) => c.header('cache-control', 'public, max-age=31536000, immutable'),
    }),
  );
  app.on(['GET', 'POST', 'OPTIONS'], '/graphql', (c) => shop.graphql.fetch(c.req.raw));
  // A file the browser asks for on its own (/favicon.ico, a source map) is not a page: 404
  // before the catch-all, or every one of them would render the whole app with its queries.
  app.get('*', async (c) => {
    if (isFilePath(c.req.path)) return c.text('Not Found', 404);
    const result = await shop.render(c.req.raw, { signal: c.req.raw.signal });
    return result.toResponse();
  });

  return listening(
    serve({
      fetch: app.fetch,
      port: options.port ?? 3000,
      hostname: options.host,
    }) as Server,
  );
}
