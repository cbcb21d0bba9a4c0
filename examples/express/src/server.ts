import { createShop, listening, type RunningServer, type ServerOptions } from '@kiln/example-app';
import express from 'express';

/**
 * The demo shop in Express 5: static assets, the GraphQL endpoint, and every other GET
 * rendered by Kiln and piped into the response (status, headers, streamed body).
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const shop = await createShop(options);
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
