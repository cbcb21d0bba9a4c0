import {
  createSchema,
  createYoga,
  type YogaInitialContext,
  type YogaServerInstance,
} from 'graphql-yoga';
import type { ProductSnapshot, ShopStore } from './store';
import { MEMBER_DISCOUNT_PERCENT, visitorFromCookieHeader } from './visitor';

const typeDefs = /* GraphQL */ `
  type Query {
    "The visitor, from the kiln_visitor cookie."
    viewer: Viewer!
    products: [Product!]!
    product(id: ID!): Product
    "Staff picks. Deliberately slow: the page streams them in after the shell."
    picks: [Pick!]!
    "Visits of the front page; every query of this field counts one."
    visits: Int!
    "The server's clock, ISO 8601."
    serverTime: String!
  }
  type Viewer {
    name: String
    signedIn: Boolean!
    discountPercent: Int!
  }
  type Product {
    id: ID!
    name: String!
    description: String!
    hue: Int!
    "List price in cents."
    listPrice: Int!
    "Price for this visitor in cents."
    price: Int!
    stock: Int!
    "Views of this product's page; querying product(id) counts one."
    views: Int!
  }
  type Pick {
    id: ID!
    reason: String!
    product: Product!
  }
`;

/** What every resolver sees. */
export interface ShopContext {
  visitor: string | undefined;
  signal: AbortSignal;
}

interface ViewedProduct extends ProductSnapshot {
  views?: number;
}

const reasons = ['Built to last', 'Staff favourite', 'Gift idea'];

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves once `promise` does; rejects with the reason when `signal` aborts first. */
function unlessAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The demo GraphQL server. */
export type ShopGraphQL = YogaServerInstance<object, ShopContext>;

/** Options of {@link createShopGraphQL}. */
export interface ShopGraphQLOptions {
  store: ShopStore;
  /** Artificial latency of `Query.picks` in milliseconds. */
  picksLatencyMs: number;
  /**
   * Called by every `Query.picks` after its latency; the picks answer once the returned promise
   * resolves. Tests hold the picks back with it until they have seen the page's shell, so the
   * order of the stream is decided by the test, not by a timer. Default: none.
   */
  picksGate?: () => Promise<unknown>;
}

/**
 * The demo GraphQL server (graphql-yoga) on `/graphql`. It is a Node request listener and has
 * a Web `fetch(request)`, so it mounts in any server and can be called in-process.
 *
 * @example
 * const yoga = createShopGraphQL({ store: createShopStore(), picksLatencyMs: 800 });
 * http.createServer(yoga).listen(4000);
 */
export function createShopGraphQL(options: ShopGraphQLOptions): ShopGraphQL {
  const { store, picksLatencyMs, picksGate } = options;
  const priceFor = (listPrice: number, visitor: string | undefined) =>
    visitor ? Math.round((listPrice * (100 - MEMBER_DISCOUNT_PERCENT)) / 100) : listPrice;

  const schema = createSchema<YogaInitialContext & ShopContext>({
    typeDefs,
    resolvers: {
      Query: {
        viewer: (_root, _args, ctx) => ({
          name: ctx.visitor ?? null,
          signedIn: ctx.visitor !== undefined,
          discountPercent: ctx.visitor ? MEMBER_DISCOUNT_PERCENT : 0,
        }),
        products: () => store.products(),
        product: (_root, args: { id: string }): ViewedProduct | null => {
          const product = store.product(args.id);
          if (!product) return null;
          return { ...product, views: store.recordProductView(args.id) };
        },
        picks: async (_root, _args, ctx) => {
          await wait(picksLatencyMs, ctx.signal);
          if (picksGate) await unlessAborted(picksGate(), ctx.signal);
          return store
            .products()
            .sort((a, b) => b.listPrice - a.listPrice)
            .slice(0, 3)
            .map((product, i) => ({ id: `pick-${product.id}`, reason: reasons[i], product }));
        },
        visits: () => store.recordVisit(),
        serverTime: () => store.now().toISOString(),
      },
      Product: {
        price: (product: ProductSnapshot, _args, ctx) => priceFor(product.listPrice, ctx.visitor),
        views: (product: ViewedProduct) => product.views ?? 0,
      },
    },
  });

  return createYoga<object, ShopContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: false,
    context: ({ request }) => ({
      visitor: visitorFromCookieHeader(request.headers.get('cookie')),
      signal: request.signal,
    }),
  });
}
