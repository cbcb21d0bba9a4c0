import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RenderErrorInfo } from '@kiln/core';
import {
  contentSecurityPolicy,
  createNonce,
  createShopGraphQL,
  createShopStore,
  isFilePath,
  listening,
  type RunningServer,
} from '@kiln/example-app';
import express from 'express';
import type { ViteDevServer } from 'vite';
import { withNonce } from './csp';
import type { renderPage } from './entry-server';
import { defaultDistDir, SERVER_ENTRY, viteConfigFile, viteRoot } from './paths';

/** Options of {@link startServer}. */
export interface ViteServerOptions {
  /** Development (Vite middleware, HMR, stacks in error pages) or production (the build). Default: `NODE_ENV !== 'production'`. */
  dev?: boolean;
  /** Port to listen on (default 3000; 0 picks a free one). */
  port?: number;
  /** Interface to listen on (default: all). */
  host?: string;
  /** Latency of the staff picks query, in milliseconds (default 800): they stream in after the shell. */
  picksLatencyMs?: number;
  /** Holds the staff picks back until the returned promise resolves (tests; see `ShopOptions.picksGate`). */
  picksGate?: () => Promise<unknown>;
  /** The production build made by `buildApp()` (default `dist/`). */
  distDir?: string;
  /**
   * Where render errors go (default: `console.error`). In development their stacks already
   * point into the sources: Vite 7's module runner turns on Node's source maps
   * (`process.setSourceMapsEnabled`), so `vite.ssrFixStacktrace` must not map them a second time.
   */
  onError?: (error: unknown, info: RenderErrorInfo) => void;
}

/** The server entry's exports. */
interface ServerEntry {
  renderPage: typeof renderPage;
}

/** How one request gets the current template and server entry. */
interface PageSource {
  load(url: string): Promise<{ template: string; entry: ServerEntry }>;
  close(): Promise<void>;
}

async function developmentSource(vite: ViteDevServer): Promise<PageSource> {
  const indexHtml = join(viteRoot, 'index.html');
  return {
    async load(url) {
      // Read on every request: an edit of index.html shows on the next load.
      const template = await vite.transformIndexHtml(url, await readFile(indexHtml, 'utf8'));
      const entry = (await vite.ssrLoadModule(SERVER_ENTRY)) as ServerEntry;
      return { template, entry };
    },
    close: () => vite.close(),
  };
}

async function productionSource(distDir: string): Promise<PageSource> {
  let template: string;
  try {
    template = await readFile(join(distDir, 'client', 'index.html'), 'utf8');
  } catch (cause) {
    throw new Error(
      `[kiln/example-vite] no production build in ${distDir}; run \`pnpm --filter @kiln/example-vite build\` first`,
      { cause },
    );
  }
  const entry = (await import(
    pathToFileURL(join(distDir, 'server', 'entry-server.js')).href
  )) as ServerEntry;
  return { load: async () => ({ template, entry }), close: async () => {} };
}

/**
 * The demo catalogue with Vite and Express 5. In development Vite runs as middleware: it serves
 * the browser modules with HMR (React Fast Refresh) over the same HTTP server, and every request
 * renders the current code (`ssrLoadModule`) into the current `index.html`
 * (`transformIndexHtml`). In production it serves the build: hashed assets, the built
 * `index.html` as the template, the bundled server entry.
 *
 * @example
 * const { url, close } = await startServer({ dev: true, port: 5173 });
 */
export async function startServer(options: ViteServerOptions = {}): Promise<RunningServer> {
  const dev = options.dev ?? process.env.NODE_ENV !== 'production';
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createHttpServer(app);
  const graphql = createShopGraphQL({
    store: createShopStore(),
    picksLatencyMs: options.picksLatencyMs ?? 800,
    picksGate: options.picksGate,
  });

  let vite: ViteDevServer | undefined;
  let source: PageSource;
  if (dev) {
    const { createServer } = await import('vite');
    vite = await createServer({
      root: viteRoot,
      configFile: viteConfigFile,
      // HMR's WebSocket shares the HTTP server: no second port.
      server: { middlewareMode: true, hmr: { server: httpServer } },
      appType: 'custom',
    });
    source = await developmentSource(vite);
  } else {
    const distDir = options.distDir ?? defaultDistDir;
    source = await productionSource(distDir);
    app.use(
      '/assets',
      express.static(join(distDir, 'client', 'assets'), {
        immutable: true,
        maxAge: '1y',
        index: false,
      }),
    );
  }

  const onError =
    options.onError ??
    ((error: unknown, info: RenderErrorInfo) =>
      console.error(`[kiln/example-vite] ${info.phase}:`, error));

  app.all('/graphql', (req, res) => graphql(req, res));
  if (vite) app.use(vite.middlewares);
  // A file the browser asks for on its own (/favicon.ico, a source map) is not a page: 404
  // before the catch-all, or every one of them would render the whole app with its queries.
  app.get('/{*path}', async (req, res, next) => {
    if (isFilePath(req.path)) {
      res.status(404).type('text/plain').send('Not Found');
      return;
    }
    try {
      const { template, entry } = await source.load(req.originalUrl);
      const nonce = createNonce();
      res.setHeader('content-security-policy', contentSecurityPolicy(nonce, '/graphql'));
      const result = await entry.renderPage(req, {
        template: withNonce(template, nonce),
        nonce,
        dev,
        graphqlFetch: (request) => graphql.fetch(request),
        onError,
      });
      result.pipe(res);
    } catch (error) {
      next(error);
    }
  });

  const port = options.port ?? 3000;
  if (options.host) httpServer.listen(port, options.host);
  else httpServer.listen(port);
  const running = await listening(httpServer);
  return {
    url: running.url,
    close: async () => {
      await source.close();
      await running.close();
    },
  };
}
