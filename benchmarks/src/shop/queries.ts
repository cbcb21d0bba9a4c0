/**
 * The page's three GraphQL operations, typed. The page runs `VIEWER_QUERY` once,
 * `PRODUCTS_QUERY` once with variables that depend on the viewer, and `REVIEWS_QUERY` once per
 * product card: 62 operations for 60 products.
 */
import { gql, type TypedDocumentNode } from '@apollo/client';
import { type Currency, PRODUCT_COUNT, REVIEWS_PER_PRODUCT, type Tier } from './data';

/** A price in the viewer's currency. */
export interface Money {
  __typename: 'Money';
  amount: number;
  currency: Currency;
  formatted: string;
}

/** The signed-in visitor as the page reads it. */
export interface Viewer {
  __typename: 'Viewer';
  id: string;
  name: string;
  tier: Tier;
  currency: Currency;
  cartCount: number;
}

/** A product card's data. */
export interface Product {
  __typename: 'Product';
  id: string;
  name: string;
  description: string;
  price: Money;
  listPrice: Money;
  rating: number;
  reviewCount: number;
  stock: number;
  badge: string | null;
  color: string;
}

/** A review as shown on a card. */
export interface Review {
  __typename: 'Review';
  id: string;
  author: string;
  rating: number;
  title: string;
  body: string;
  createdAt: string;
}

/** The visitor, or null for a guest. */
export const VIEWER_QUERY: TypedDocumentNode<
  { viewer: Viewer | null },
  Record<string, never>
> = gql`
    query Viewer {
      viewer {
        id
        name
        tier
        currency
        cartCount
      }
    }
  `;

/** Variables of {@link PRODUCTS_QUERY}. */
export interface ProductsVariables {
  first: number;
  currency: Currency;
  tier: Tier | null;
}

/** The products, priced for the viewer. */
export const PRODUCTS_QUERY: TypedDocumentNode<{ products: Product[] }, ProductsVariables> = gql`
  query Products($first: Int!, $currency: Currency!, $tier: Tier) {
    products(first: $first, currency: $currency, tier: $tier) {
      id
      name
      description
      price {
        amount
        currency
        formatted
      }
      listPrice {
        amount
        currency
        formatted
      }
      rating
      reviewCount
      stock
      badge
      color
    }
  }
`;

/** Variables of {@link REVIEWS_QUERY}. */
export interface ReviewsVariables {
  productId: string;
  first: number;
}

/** The latest reviews of one product. */
export const REVIEWS_QUERY: TypedDocumentNode<{ reviews: Review[] }, ReviewsVariables> = gql`
  query Reviews($productId: ID!, $first: Int!) {
    reviews(productId: $productId, first: $first) {
      id
      author
      rating
      title
      body
      createdAt
    }
  }
`;

/** Variables of the products query for a viewer (or a guest). */
export function productsVariables(viewer: Viewer | null | undefined): ProductsVariables {
  return { first: PRODUCT_COUNT, currency: viewer?.currency ?? 'USD', tier: viewer?.tier ?? null };
}

/** Variables of the reviews query for a product. */
export function reviewsVariables(productId: string): ReviewsVariables {
  return { productId, first: REVIEWS_PER_PRODUCT };
}
