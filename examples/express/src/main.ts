import cluster from 'node:cluster';
import { runFromEnvironment } from '@kiln/example-app';
import { adminTokenFromEnvironment } from './admin';
import { cacheConfigFromEnvironment, pageCacheFromEnvironment } from './cache';
import { startServer } from './server';
import { runPrimary, workersFromEnvironment } from './workers';

// Every setting is checked before anything starts: a bad value stops here, once.
const workers = workersFromEnvironment(process.env);
const adminToken = adminTokenFromEnvironment(process.env);
cacheConfigFromEnvironment(process.env);

if (workers !== undefined && cluster.isPrimary) {
  runPrimary(workers);
} else {
  const cache = await pageCacheFromEnvironment(process.env);
  await runFromEnvironment('Express', async (options) => {
    const running = await startServer({
      ...options,
      // Where the client build is (default: the one `pnpm start` builds).
      assetsDir: process.env.ASSETS_DIR || undefined,
      pages: cache?.pages,
      crawlers: cache?.crawlers,
      partial: cache?.partial === true,
      adminToken: cache ? adminToken : undefined,
    });
    return {
      url: running.url,
      close: async () => {
        await running.close();
        await cache?.close();
      },
    };
  });
}
