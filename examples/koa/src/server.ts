import {
  createShop,
  isFilePath,
  listening,
  type RunningServer,
  type ServerOptions,
} from '@kiln/example-app';
import Koa from 'koa';
import send from 'koa-send';

/**
 * The demo shop in Koa 3, laid out like ReactQL's server: static assets, the GraphQL
 * endpoint, and a last middleware that renders every other `GET` with Kiln.
 *
 * The page is sent with `ctx.respond = false` and `result.pipe(ctx.res)`, not
 * `ctx.body = stream`. `pipe()` writes the status and headers Kiln decided (a 404, a redirect's
 * `Location`, several `Set-Cookie`, the CSP) onto the response and then streams with
 * backpressure, and it sees the client disconnect on `ctx.res` to abort the render. A stream in
 * `ctx.body` would be a body only: Koa would send its own status and content type, and Kiln
 * could not see the socket close.
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const shop = await createShop(options);
  const app = new Koa();

  app.use(async (ctx, next) => {
    if (!ctx.path.startsWith(shop.assetsPrefix)) return next();
    const file = ctx.path.slice(shop.assetsPrefix.length);
    // Only the files of the build: no other path reaches the file system.
    if (!shop.assetFiles.includes(file)) return next();
    await send(ctx, file, { root: shop.assetsDir, immutable: true, maxage: 31_536_000_000 });
  });

  app.use(async (ctx, next) => {
    if (ctx.path !== '/graphql') return next();
    ctx.respond = false;
    await shop.graphql(ctx.req, ctx.res);
  });

  app.use(async (ctx) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('allow', 'GET, HEAD');
      return;
    }
    // A file the browser asks for on its own (/favicon.ico, a source map) is not a page: 404
    // before the catch-all, or every one of them would render the whole app with its queries.
    if (isFilePath(ctx.path)) {
      ctx.status = 404;
      ctx.body = 'Not Found';
      return;
    }
    ctx.respond = false;
    const result = await shop.render(ctx.req);
    result.pipe(ctx.res);
  });

  const port = options.port ?? 3000;
  return listening(options.host ? app.listen(port, options.host) : app.listen(port));
}
