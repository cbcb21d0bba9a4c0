/**
 * @module
 * The reference shop page shared by the benchmarks: deterministic data, an executable GraphQL
 * schema, per-request Apollo clients executing in process, the page in a `useQuery` and a
 * `useSuspenseQuery` variant, the pipelines without Kiln, and correctness checks.
 *
 * ```ts
 * const schema = createSchema();
 * const client = makeClient({ schema, user: 'ada' });
 * await fillCache(client);
 * const html = renderToString(withProviders(<ShopPage />, { client, emotionCache: makeEmotionCache() }));
 * ```
 */
export { fillCache, type MakeClientOptions, makeClient } from './client';
export {
  buildCatalogue,
  type Catalogue,
  type Currency,
  PRODUCT_COUNT,
  type ProductRecord,
  REVIEWS_PER_PRODUCT,
  type ReviewRecord,
  SEED,
  type Tier,
  TRICKY_FRAGMENTS,
  type ViewerRecord,
  viewerFor,
} from './data';
export { ShopPage, ShopSuspensePage } from './page';
export { EMOTION_KEY, makeEmotionCache, withProviders } from './providers';
export {
  type Money,
  PRODUCTS_QUERY,
  type Product,
  type ProductsVariables,
  productsVariables,
  REVIEWS_QUERY,
  type Review,
  type ReviewsVariables,
  reviewsVariables,
  VIEWER_QUERY,
  type Viewer,
} from './queries';
export {
  APOLLO_STATE_GLOBAL,
  documentHtml,
  pageOf,
  renderDataThenRender,
  renderFloor,
  renderHandRolled,
  renderSuspenseAllReady,
  type ShopRequest,
  snapshot,
  type Variant,
} from './render';
export {
  contextFromCookieHeader,
  createSchema,
  envLatencyMs,
  type SchemaOptions,
  type ShopContext,
} from './schema';
export { assertShopPage, type ShopExpectations, shopPageProblems } from './verify';
