/**
 * @module
 * Test helpers shared by the Kiln packages: a real headless Chromium (the Debian
 * `chromium` package driven by playwright-core) and HTML parsing with parse5.
 */
export { type BundleOptions, bundleForBrowser } from './bundle';
export { type BrowserSession, findChromium, launchChromium } from './chromium';
export { attr, type Element, findAll, parseDocument, textOf } from './html';
export {
  freePort,
  launchRedis,
  launchRedisOnFreePort,
  type RedisProcess,
  type RedisServer,
  startRedis,
} from './redis';
export { type RedisCluster, type RedisClusterNode, startRedisCluster } from './redis-cluster';
export { type Listening, listen } from './server';
export { startTcpProxy, type TcpProxy } from './tcp-proxy';
