/**
 * @module
 * The demo shop shared by the Kiln example servers: `createShop()` gives a server what it needs
 * (a `render(request)` per page, the embedded GraphQL server, the client assets folder).
 */
export { App } from './app/App';
export { createShopGraphQL, type ShopGraphQL } from './graphql/schema';
export { createShopStore, type ShopStore } from './graphql/store';
export {
  ASSETS_PREFIX,
  type ClientManifest,
  defaultAssetsDir,
  isFilePath,
} from './server/assets';
export { contentSecurityPolicy, createNonce } from './server/csp';
export {
  listening,
  type RunningServer,
  runFromEnvironment,
  type ServerOptions,
} from './server/run';
export { createShop, type Shop, type ShopOptions } from './server/shop';
