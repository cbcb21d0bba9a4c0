import { runFromEnvironment } from '@kiln/example-app';
import { startServer } from './server';

/**
 * `pnpm dev` (NODE_ENV unset: Vite middleware, HMR) or `pnpm start` (NODE_ENV=production: the
 * build in `DIST_DIR`, default `dist/`). `PORT` (default 3000, 0 for a free one), `HOST` and
 * `PICKS_LATENCY_MS` (and `PICKS_GATE_URL` for tests).
 */
const dev = process.env.NODE_ENV !== 'production';
await runFromEnvironment(`Vite, ${dev ? 'development' : 'production'}`, (options) =>
  startServer({
    dev,
    port: options.port,
    host: options.host,
    picksLatencyMs: options.picksLatencyMs,
    picksGate: options.picksGate,
    distDir: process.env.DIST_DIR || undefined,
  }),
);
