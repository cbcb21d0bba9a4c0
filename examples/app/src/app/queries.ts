import { gql, type TypedDocumentNode } from '@apollo/client';

/** The visitor, as the header shows them. */
export interface Viewer {
  name: string | null;
  signedIn: boolean;
  discountPercent: number;
}

/** A product card's data. */
export interface ProductSummary {
  id: string;
  name: string;
  hue: number;
  listPrice: number;
  price: number;
  stock: number;
}

const VIEWER_FIELDS = gql`
  fragment ViewerFields on Viewer {
    name
    signedIn
    discountPercent
  }
`;

/** The front page: every product, the visit counter and the server's clock. */
export const HOME_QUERY: TypedDocumentNode<{
  viewer: Viewer;
  products: ProductSummary[];
  visits: number;
  serverTime: string;
}> = gql`
  query Home {
    viewer {
      ...ViewerFields
    }
    products {
      id
      name
      hue
      listPrice
      price
      stock
    }
    visits
    serverTime
  }
  ${VIEWER_FIELDS}
`;

/** What a product page shows of a product, but the visitor's price. */
export interface ProductDetails extends Omit<ProductSummary, 'price'> {
  description: string;
  views: number;
}

/** A product page. Querying it counts a view. */
export const PRODUCT_QUERY: TypedDocumentNode<
  {
    viewer: Viewer;
    product: (ProductDetails & { price: number }) | null;
    serverTime: string;
  },
  { id: string }
> = gql`
  query Product($id: ID!) {
    viewer {
      ...ViewerFields
    }
    product(id: $id) {
      id
      name
      description
      hue
      listPrice
      price
      stock
      views
    }
    serverTime
  }
  ${VIEWER_FIELDS}
`;

/** Staff picks: slow on purpose, so the page streams them in. No field here changes over time. */
export const PICKS_QUERY: TypedDocumentNode<{
  picks: { id: string; reason: string; product: Pick<ProductSummary, 'id' | 'name' | 'hue'> }[];
}> = gql`
  query Picks {
    picks {
      id
      reason
      product {
        id
        name
        hue
      }
    }
  }
`;

/** The visitor alone (partial pre-rendering: the header is a hole). */
export const VIEWER_QUERY: TypedDocumentNode<{ viewer: Viewer }> = gql`
  query Viewer {
    viewer {
      ...ViewerFields
    }
  }
  ${VIEWER_FIELDS}
`;

/** The front page without the visitor and their prices (partial pre-rendering: the shell). */
export const CATALOG_QUERY: TypedDocumentNode<{
  products: Omit<ProductSummary, 'price'>[];
  visits: number;
  serverTime: string;
}> = gql`
  query Catalog {
    products {
      id
      name
      hue
      listPrice
      stock
    }
    visits
    serverTime
  }
`;

/**
 * A product page without the visitor and their price (partial pre-rendering: the shell, stored
 * once per product; its view counter is the count when the shell was pre-rendered).
 */
export const PRODUCT_SHELL_QUERY: TypedDocumentNode<
  { product: ProductDetails | null; serverTime: string },
  { id: string }
> = gql`
  query ProductShell($id: ID!) {
    product(id: $id) {
      id
      name
      description
      hue
      listPrice
      stock
      views
    }
    serverTime
  }
`;

/** This visitor's prices (partial pre-rendering: each card's price is a hole). */
export const PRICES_QUERY: TypedDocumentNode<{ products: { id: string; price: number }[] }> = gql`
  query Prices {
    products {
      id
      price
    }
  }
`;

/**
 * The operations whose answer depends on the visitor (their `visitor` cookie): with partial
 * pre-rendering, `apollo({ personal })` makes their Suspense boundaries holes.
 */
export const PERSONAL_OPERATIONS: ReadonlySet<string> = new Set([
  'Viewer',
  'Prices',
  'Home',
  'Product',
]);
