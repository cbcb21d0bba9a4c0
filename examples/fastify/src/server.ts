import fastifyStatic from '@fastify/static';
import {
  createShop,
  isFilePath,
  listening,
  type RunningServer,
  type ServerOptions,
} from '@kiln/example-app';
import Fastify from 'fastify';

/**
 * The demo shop in Fastify 5: static assets, the GraphQL endpoint, and every other GET
 * rendered by Kiln and piped into the raw response (Fastify hands it over with `hijack()`).
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const shop = await createShop(options);
  const app = Fastify();

  await app.register(fastifyStatic, {
    root: shop.assetsDir,
    prefix: shop.assetsPrefix,
    immutable: true,
    maxAge: '1y',
    index: false,
  });
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler: async (req, reply) => {
      const response = await shop.graphql.handleNodeRequestAndResponse(req, reply);
      reply.status(response.status);
      for (const [name, value] of response.headers) reply.header(name, value);
      return reply.send(response.body);
    },
  });
  // A file the browser asks for on its own (/favicon.ico, a source map) is not a page: 404
  // before the catch-all, or every one of them would render the whole app with its queries.
  app.get('/*', async (req, reply) => {
    if (isFilePath(new URL(req.url, 'http://localhost').pathname)) {
      return reply.code(404).type('text/plain').send('Not Found');
    }
    const result = await shop.render(req.raw);
    reply.hijack();
    result.pipe(reply.raw);
  });

  await app.listen({ port: options.port ?? 3000, host: options.host });
  return listening(app.server);
}
