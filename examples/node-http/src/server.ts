import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import {
  createShop,
  isFilePath,
  listening,
  type RunningServer,
  type ServerOptions,
} from '@kiln/example-app';

const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The demo shop in a plain `node:http` server: the client build's files (and nothing else from
 * disk), the GraphQL endpoint, and every other GET rendered by Kiln and piped into the response.
 *
 * @example
 * const { url, close } = await startServer({ port: 3000 });
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const shop = await createShop(options);
  const assets = new Set(shop.assetFiles);

  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === '/graphql') return shop.graphql(req, res);
    if (pathname.startsWith(shop.assetsPrefix)) {
      const file = pathname.slice(shop.assetsPrefix.length);
      if (!assets.has(file)) return res.writeHead(404).end();
      res.writeHead(200, {
        'content-type': types[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'public, max-age=31536000, immutable',
      });
      return createReadStream(join(shop.assetsDir, file)).pipe(res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return res.writeHead(405, { allow: 'GET, HEAD' }).end();
    }
    // A file the browser asks for on its own (/favicon.ico, a source map) is not a page: 404
    // before the catch-all, or every one of them would render the whole app with its queries.
    if (isFilePath(pathname)) {
      return res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    }
    try {
      (await shop.render(req)).pipe(res);
    } catch (error) {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });

  return listening(server.listen(options.port ?? 3000, options.host));
}
