import { runFromEnvironment } from '@kiln/example-app';
import { pageCacheFromEnvironment } from './cache';
import { startServer } from './server';

const cache = await pageCacheFromEnvironment(process.env);
await runFromEnvironment('Express', (options) =>
  startServer({ ...options, pages: cache?.pages, partial: cache?.partial === true }),
);
