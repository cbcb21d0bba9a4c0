/**
 * Deterministic data of the reference shop: the same seed gives the same products, reviews and
 * viewers on every run and every machine. Review texts carry what breaks naive HTML and state
 * serialisation: accents, CJK, emoji, markup, `a < b`, `&`, `</script><script>`, `<!--`, and the
 * line separators U+2028/U+2029.
 */

/** The seed of every generated value. */
export const SEED = 0x4b494c4e;

/** Number of products on the page. */
export const PRODUCT_COUNT = 60;

/** Number of reviews shown per product. */
export const REVIEWS_PER_PRODUCT = 5;

/** Loyalty tier of a signed-in visitor; drives prices and colours. */
export type Tier = 'MEMBER' | 'SILVER' | 'GOLD';

/** Currencies prices are shown in. */
export type Currency = 'USD' | 'EUR' | 'JPY';

/** The signed-in visitor. */
export interface ViewerRecord {
  id: string;
  name: string;
  tier: Tier;
  currency: Currency;
  cartCount: number;
}

/** A product, prices in US cents. */
export interface ProductRecord {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  rating: number;
  reviewCount: number;
  stock: number;
  badge: 'NEW' | 'SALE' | 'BESTSELLER' | null;
  color: string;
}

/** A review of a product. */
export interface ReviewRecord {
  id: string;
  author: string;
  rating: number;
  title: string;
  body: string;
  createdAt: string;
}

/** A small, fast, seedable PRNG (mulberry32), returning floats in [0, 1). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const ADJECTIVES = [
  'Hand-thrown',
  'Glazed',
  'Rustic',
  'Speckled',
  'Café',
  'Nordic',
  'Kyoto',
  'Crème',
  'Smoked',
  'Ash-fired',
  'Porcelain',
  'Matte',
] as const;
const NOUNS = [
  'Mug',
  'Bowl',
  'Teapot',
  'Vase',
  'Plate',
  'Pitcher',
  'Planter',
  'Cup & Saucer',
  'Jar',
  'Platter',
] as const;
const COLORS = [
  '#b5523b',
  '#3b6fb5',
  '#4e8a3e',
  '#8a3e7a',
  '#c49a2c',
  '#2c8a8a',
  '#6b6b6b',
  '#a34242',
] as const;
const AUTHORS = [
  'Amélie',
  'Jürgen',
  'Søren',
  '佐藤 花子',
  '李伟',
  'Zoë',
  'Ñandú Pérez',
  'O’Brien',
  'Chloé & Max',
  'Ana <Admin>',
] as const;
const TITLES = [
  'Très bien',
  'とても良い',
  'Love it 😍',
  'Works as expected',
  'a < b, but still fine',
  'Not <b>bad</b>',
  'Fish & chips plate',
  '非常好 👍',
] as const;
const FRAGMENTS = [
  'The glaze is beautiful and the colour matches the photo exactly.',
  'Très élégant, parfait pour le café crème du matin — un peu fragile.',
  'とても使いやすいです。色もきれいで、毎日使っています。',
  '质量很好，包装也很仔细。推荐购买！',
  'Arrived quickly 🚚📦 and well packed 🎉🔥.',
  'It says <b>dishwasher safe</b> and it really is.',
  'Price/quality: a < b when a is this mug & b is the competition.',
  'Tom & Jerry would approve &amp; so do I.',
  'My review ends here </script><script>alert("pwned")</script> — sorry.',
  'Comment trick <!-- nothing to see --> test.',
  'Line\u2028separator and paragraph\u2029separator inside.',
  'Größe passt, Qualität überzeugt. Ærlig talt: fantastisk.',
  'Ideal for matcha 🍵 or espresso ☕; holds heat well.',
  'Slightly heavier than expected, but sturdy and well balanced in the hand.',
] as const;

/** Every special case a review body must carry at least once on the page. */
export const TRICKY_FRAGMENTS: readonly string[] = [
  FRAGMENTS[1],
  FRAGMENTS[2],
  FRAGMENTS[3],
  FRAGMENTS[4],
  FRAGMENTS[5],
  FRAGMENTS[6],
  FRAGMENTS[8],
  FRAGMENTS[9],
  FRAGMENTS[10],
];

/** The generated catalogue: products in page order and their reviews by product id. */
export interface Catalogue {
  products: ProductRecord[];
  reviews: Map<string, ReviewRecord[]>;
}

/**
 * Builds the catalogue from {@link SEED}. Pure and deterministic; call it once and share the
 * result (it is never mutated).
 */
export function buildCatalogue(seed: number = SEED): Catalogue {
  const next = random(seed);
  const products: ProductRecord[] = [];
  const reviews = new Map<string, ReviewRecord[]>();
  for (let i = 0; i < PRODUCT_COUNT; i++) {
    const id = `p${String(i + 1).padStart(3, '0')}`;
    const name = `${pick(next, ADJECTIVES)} ${pick(next, NOUNS)} Nº${i + 1}`;
    const badgeRoll = next();
    const product: ProductRecord = {
      id,
      name,
      description: `${pick(next, FRAGMENTS)} ${pick(next, FRAGMENTS)}`,
      priceCents: 900 + Math.floor(next() * 12000),
      rating: Math.round((2.5 + next() * 2.5) * 10) / 10,
      reviewCount: 5 + Math.floor(next() * 400),
      stock: Math.floor(next() * 40),
      badge:
        badgeRoll < 0.15 ? 'NEW' : badgeRoll < 0.3 ? 'SALE' : badgeRoll < 0.4 ? 'BESTSELLER' : null,
      color: pick(next, COLORS),
    };
    products.push(product);
    const list: ReviewRecord[] = [];
    for (let r = 0; r < REVIEWS_PER_PRODUCT; r++) {
      const parts: string[] = [pick(next, FRAGMENTS), pick(next, FRAGMENTS), pick(next, FRAGMENTS)];
      // The first product's reviews carry every tricky fragment, whatever the seed draws.
      if (i === 0) parts.push(...TRICKY_FRAGMENTS.slice(r * 2, r * 2 + 2));
      list.push({
        id: `${id}-r${r + 1}`,
        author: pick(next, AUTHORS),
        rating: 1 + Math.floor(next() * 5),
        title: pick(next, TITLES),
        body: parts.join(' '),
        createdAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(next() * 300) * 86_400_000)
          .toISOString()
          .slice(0, 10),
      });
    }
    reviews.set(id, list);
  }
  return { products, reviews };
}

/**
 * The viewer for a `user` cookie value, or null for a guest (no or empty cookie). The same
 * cookie always gives the same viewer.
 */
export function viewerFor(user: string | undefined): ViewerRecord | null {
  if (!user) return null;
  const h = hash(user);
  const tiers: Tier[] = ['MEMBER', 'SILVER', 'GOLD'];
  const currencies: Currency[] = ['USD', 'EUR', 'JPY'];
  const name = user.charAt(0).toUpperCase() + user.slice(1);
  return {
    id: `u-${h.toString(36)}`,
    name,
    tier: tiers[h % 3]!,
    currency: currencies[(h >>> 3) % 3]!,
    cartCount: (h >>> 5) % 9,
  };
}

/** Discount in percent for a tier (guests get none). */
export function tierDiscount(tier: Tier | null | undefined): number {
  return tier === 'GOLD' ? 15 : tier === 'SILVER' ? 10 : tier === 'MEMBER' ? 5 : 0;
}

const RATES: Record<Currency, number> = { USD: 1, EUR: 0.92, JPY: 150 };

/** Converts US cents into the minor unit of `currency` (JPY has none) and formats it. */
export function money(
  usdCents: number,
  currency: Currency,
): { amount: number; currency: Currency; formatted: string } {
  const amount = Math.round((usdCents * RATES[currency]) / (currency === 'JPY' ? 100 : 1));
  const major = currency === 'JPY' ? amount : amount / 100;
  const formatted =
    currency === 'JPY'
      ? `¥${major.toLocaleString('en-US')}`
      : currency === 'EUR'
        ? `${major.toFixed(2).replace('.', ',')} €`
        : `$${major.toFixed(2)}`;
  return { amount, currency, formatted };
}
