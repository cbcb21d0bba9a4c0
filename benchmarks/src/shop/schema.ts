/**
 * The shop's executable GraphQL schema (graphql-js, no server): run it in process through
 * Apollo's `SchemaLink` (see `client.ts`), or serve it with graphql-yoga:
 *
 * ```ts
 * createYoga({ schema: createSchema(), context: ({ request }) => contextFromCookieHeader(request.headers.get('cookie')) });
 * ```
 *
 * Every operation of the page has exactly one root field, so the optional latency, applied once
 * per root field, is a latency per operation.
 */
import { createRequire } from 'node:module';
import type { GraphQLSchema } from 'graphql';
import {
  buildCatalogue,
  type Catalogue,
  type Currency,
  money,
  type ProductRecord,
  type Tier,
  tierDiscount,
  viewerFor,
} from './data';

/**
 * graphql 16 has no `exports` map: Node's `import` loads its CommonJS build while bundlers and
 * vite pick its `.mjs` build, and a schema made by one build is refused by the other ("from
 * another module or realm"). Loading it with `require` gives the schema the same build that
 * Apollo's `SchemaLink` and graphql-yoga load.
 */
const {
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema: Schema,
  GraphQLString,
} = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** What resolvers get as GraphQL context: the visitor's `user` cookie, if any. */
export interface ShopContext {
  user?: string | undefined;
}

/** Options of {@link createSchema}. */
export interface SchemaOptions {
  /**
   * Delay added to every operation, in milliseconds. Default: the `LATENCY_MS` environment
   * variable, else 0 (then resolvers answer synchronously).
   */
  latencyMs?: number;
  /** The data to serve. Default: {@link buildCatalogue} from the fixed seed. */
  catalogue?: Catalogue;
}

/** The latency from the `LATENCY_MS` environment variable (0 when unset or invalid). */
export function envLatencyMs(): number {
  const value = Number(process.env.LATENCY_MS ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Reads the `user` cookie from a `Cookie` header into a {@link ShopContext}. */
export function contextFromCookieHeader(header: string | null | undefined): ShopContext {
  if (!header) return {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === 'user') {
      const raw = part.slice(eq + 1).trim();
      try {
        return { user: decodeURIComponent(raw) };
      } catch {
        return { user: raw };
      }
    }
  }
  return {};
}

function later<T>(latencyMs: number, produce: () => T): T | Promise<T> {
  if (latencyMs <= 0) return produce();
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      try {
        resolve(produce());
      } catch (error) {
        reject(error);
      }
    }, latencyMs);
  });
}

/**
 * Builds the shop schema: `viewer` (from the `user` cookie in the context), `products(first,
 * currency, tier)` and `reviews(productId, first)`.
 *
 * @example
 * ```ts
 * const schema = createSchema({ latencyMs: 50 });
 * ```
 */
export function createSchema(options: SchemaOptions = {}): GraphQLSchema {
  const latencyMs = options.latencyMs ?? envLatencyMs();
  const catalogue = options.catalogue ?? buildCatalogue();
  const byId = new Map(catalogue.products.map((product) => [product.id, product]));

  const TierType = new GraphQLEnumType({
    name: 'Tier',
    values: { MEMBER: {}, SILVER: {}, GOLD: {} },
  });
  const CurrencyType = new GraphQLEnumType({
    name: 'Currency',
    values: { USD: {}, EUR: {}, JPY: {} },
  });
  const MoneyType = new GraphQLObjectType({
    name: 'Money',
    fields: {
      amount: { type: new GraphQLNonNull(GraphQLInt) },
      currency: { type: new GraphQLNonNull(CurrencyType) },
      formatted: { type: new GraphQLNonNull(GraphQLString) },
    },
  });
  const ViewerType = new GraphQLObjectType({
    name: 'Viewer',
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID) },
      name: { type: new GraphQLNonNull(GraphQLString) },
      tier: { type: new GraphQLNonNull(TierType) },
      currency: { type: new GraphQLNonNull(CurrencyType) },
      cartCount: { type: new GraphQLNonNull(GraphQLInt) },
    },
  });
  interface PricedProduct {
    record: ProductRecord;
    currency: Currency;
    tier: Tier | null;
  }
  const ProductType = new GraphQLObjectType<PricedProduct>({
    name: 'Product',
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID), resolve: (p) => p.record.id },
      name: { type: new GraphQLNonNull(GraphQLString), resolve: (p) => p.record.name },
      description: {
        type: new GraphQLNonNull(GraphQLString),
        resolve: (p) => p.record.description,
      },
      price: {
        type: new GraphQLNonNull(MoneyType),
        resolve: (p) =>
          money(Math.round((p.record.priceCents * (100 - tierDiscount(p.tier))) / 100), p.currency),
      },
      listPrice: {
        type: new GraphQLNonNull(MoneyType),
        resolve: (p) => money(p.record.priceCents, p.currency),
      },
      rating: { type: new GraphQLNonNull(GraphQLFloat), resolve: (p) => p.record.rating },
      reviewCount: { type: new GraphQLNonNull(GraphQLInt), resolve: (p) => p.record.reviewCount },
      stock: { type: new GraphQLNonNull(GraphQLInt), resolve: (p) => p.record.stock },
      badge: { type: GraphQLString, resolve: (p) => p.record.badge },
      color: { type: new GraphQLNonNull(GraphQLString), resolve: (p) => p.record.color },
    },
  });
  const ReviewType = new GraphQLObjectType({
    name: 'Review',
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID) },
      author: { type: new GraphQLNonNull(GraphQLString) },
      rating: { type: new GraphQLNonNull(GraphQLInt) },
      title: { type: new GraphQLNonNull(GraphQLString) },
      body: { type: new GraphQLNonNull(GraphQLString) },
      createdAt: { type: new GraphQLNonNull(GraphQLString) },
    },
  });
  const QueryType = new GraphQLObjectType<unknown, ShopContext>({
    name: 'Query',
    fields: {
      viewer: {
        type: ViewerType,
        resolve: (_root, _args, context) => later(latencyMs, () => viewerFor(context?.user)),
      },
      products: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(ProductType))),
        args: {
          first: { type: new GraphQLNonNull(GraphQLInt) },
          currency: { type: new GraphQLNonNull(CurrencyType) },
          tier: { type: TierType },
        },
        resolve: (_root, args: { first: number; currency: Currency; tier?: Tier | null }) =>
          later(latencyMs, () =>
            catalogue.products
              .slice(0, Math.max(0, args.first))
              .map((record) => ({ record, currency: args.currency, tier: args.tier ?? null })),
          ),
      },
      reviews: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(ReviewType))),
        args: {
          productId: { type: new GraphQLNonNull(GraphQLID) },
          first: { type: new GraphQLNonNull(GraphQLInt) },
        },
        resolve: (_root, args: { productId: string; first: number }) =>
          later(latencyMs, () => {
            if (!byId.has(args.productId)) throw new Error(`No product ${args.productId}`);
            return (catalogue.reviews.get(args.productId) ?? []).slice(0, Math.max(0, args.first));
          }),
      },
    },
  });
  return new Schema({ query: QueryType });
}
