/** One product of the demo catalogue. Stock is not stored: it follows from the clock. */
export interface CatalogueItem {
  id: string;
  name: string;
  description: string;
  /** Hue (0–360) of the product's accent colour. */
  hue: number;
  /** List price in cents. */
  listPrice: number;
  /** Units on the shelf right after a restock. */
  restockTo: number;
  /** One unit sells every this many milliseconds. */
  sellsEveryMs: number;
}

const catalogue: readonly CatalogueItem[] = [
  {
    id: 'kettle',
    name: 'Stovetop kettle',
    description: 'Enamelled steel, 1.7 litres, whistles when the water boils.',
    hue: 12,
    listPrice: 4900,
    restockTo: 12,
    sellsEveryMs: 7_000,
  },
  {
    id: 'teapot',
    name: 'Clay teapot',
    description: 'Hand-thrown stoneware with a built-in strainer; serves four.',
    hue: 200,
    listPrice: 3600,
    restockTo: 6,
    sellsEveryMs: 11_000,
  },
  {
    id: 'mugs',
    name: 'Pair of mugs',
    description: 'Speckled glaze, 350 ml each, dishwasher safe.',
    hue: 140,
    listPrice: 2200,
    restockTo: 30,
    sellsEveryMs: 5_000,
  },
  {
    id: 'grinder',
    name: 'Burr grinder',
    description: 'Conical steel burrs, 40 grind settings, hand-cranked.',
    hue: 280,
    listPrice: 8900,
    restockTo: 4,
    sellsEveryMs: 13_000,
  },
];

/** A product as the GraphQL API returns it, at one moment. */
export interface ProductSnapshot extends CatalogueItem {
  stock: number;
}

/** The in-memory data behind the demo GraphQL API. One store per server; it changes over time. */
export interface ShopStore {
  /** Every product, with its stock at this moment. */
  products(): ProductSnapshot[];
  /** One product, or undefined. */
  product(id: string): ProductSnapshot | undefined;
  /** Counts one more view of a product page and returns the new count. */
  recordProductView(id: string): number;
  /** Counts one more visit of the shop's front page and returns the new count. */
  recordVisit(): number;
  /** The store's clock. */
  now(): Date;
}

/** Options of {@link createShopStore}. */
export interface ShopStoreOptions {
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * Creates the demo data. Stock levels fall by one unit every `sellsEveryMs` and are restocked
 * when they reach zero, so every read sees the shelf as it is now; the counters only grow.
 *
 * @example
 * const store = createShopStore();
 * store.recordVisit(); // 1
 */
export function createShopStore(options: ShopStoreOptions = {}): ShopStore {
  const clock = options.now ?? Date.now;
  const openedAt = clock();
  const views = new Map<string, number>();
  let visits = 0;

  const snapshot = (item: CatalogueItem): ProductSnapshot => {
    const sold = Math.floor((clock() - openedAt) / item.sellsEveryMs);
    return { ...item, stock: item.restockTo - (sold % (item.restockTo + 1)) };
  };

  return {
    products: () => catalogue.map(snapshot),
    product(id) {
      const item = catalogue.find((p) => p.id === id);
      return item && snapshot(item);
    },
    recordProductView(id) {
      const count = (views.get(id) ?? 0) + 1;
      views.set(id, count);
      return count;
    },
    recordVisit: () => ++visits,
    now: () => new Date(clock()),
  };
}
