/**
 * One benchmark server, run in its own process by `http.bench.ts` (bundled first, then
 * `node server.mjs <kind>`; `tsx --conditions=@kiln/source src/http/server.ts <kind>` works too).
 *
 * Express 5 on 127.0.0.1 (a free port), serving the shop at `/` for the visitor of the `user`
 * cookie, and this process's CPU time at `/__cpu` (so the load generator can charge server CPU
 * per request). It reports its port to the parent over IPC. `LATENCY_MS` sets the schema's
 * per-operation latency.
 */
import type { Request, Response } from 'express';
import { benchApp, listenForParent } from '../bench-server';
import { contextFromCookieHeader, createSchema, renderHandRolled } from '../shop/index';

/** The servers the HTTP benchmark can start. */
export const SERVER_KINDS = [
  'static',
  'hand-rolled',
  'kiln-buffered',
  'kiln-streamed',
  'kiln-streamed-suspense',
] as const;

/** One of {@link SERVER_KINDS}. */
export type ServerKind = (typeof SERVER_KINDS)[number];

/** The users the static floor has pages for (and the guest). */
export const STATIC_USERS: readonly string[] = ['ada'];

type Handler = (req: Request, res: Response) => Promise<void>;

async function handlerFor(kind: ServerKind): Promise<Handler> {
  const schema = createSchema();
  if (kind === 'static') {
    const pages = new Map<string, Buffer>();
    pages.set('', Buffer.from(await renderHandRolled({ schema })));
    for (const user of STATIC_USERS) {
      pages.set(user, Buffer.from(await renderHandRolled({ schema, user })));
    }
    return async (req, res) => {
      const user = contextFromCookieHeader(req.headers.cookie).user ?? '';
      const page = pages.get(user);
      if (!page) {
        res
          .status(404)
          .type('text/plain')
          .send('the static floor only knows its precomputed users');
        return;
      }
      res.status(200).type('html').send(page);
    };
  }
  if (kind === 'hand-rolled') {
    return async (req, res) => {
      const html = await renderHandRolled({
        schema,
        user: contextFromCookieHeader(req.headers.cookie).user,
      });
      res.status(200).type('html').send(html);
    };
  }
  const { renderShopWithKiln } = await import('../kiln');
  const mode = kind === 'kiln-buffered' ? 'buffer' : 'stream';
  const variant = kind === 'kiln-streamed-suspense' ? 'suspense' : 'query';
  return async (req, res) => {
    const result = await renderShopWithKiln({ schema, variant, mode, request: req });
    res.setHeader('server-timing', `shell;dur=${result.diagnostics.shellMs.toFixed(2)}`);
    result.pipe(res);
  };
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind;
  if (!SERVER_KINDS.includes(kind)) {
    throw new Error(
      `[kiln/benchmarks] unknown server ${kind}; use one of ${SERVER_KINDS.join(', ')}`,
    );
  }
  const handle = await handlerFor(kind);
  const app = benchApp();
  app.get('/', (req, res, next) => {
    handle(req, res).catch(next);
  });
  listenForParent(app);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
