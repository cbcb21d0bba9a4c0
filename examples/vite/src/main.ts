import { startServer } from './server';

/**
 * `pnpm dev` (NODE_ENV unset: Vite middleware, HMR) or `pnpm start` (NODE_ENV=production: the
 * build in `DIST_DIR`, default `dist/`). `PORT` (default 3000, 0 for a free one), `HOST` and
 * `PICKS_LATENCY_MS`.
 */
const env = process.env;
const dev = env.NODE_ENV !== 'production';
const running = await startServer({
  dev,
  port: env.PORT ? Number(env.PORT) : 3000,
  host: env.HOST || undefined,
  distDir: env.DIST_DIR || undefined,
  picksLatencyMs: env.PICKS_LATENCY_MS ? Number(env.PICKS_LATENCY_MS) : undefined,
});
console.log(
  `Kiln example (Vite, ${dev ? 'development' : 'production'}) listening on ${running.url}`,
);
const stop = () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
