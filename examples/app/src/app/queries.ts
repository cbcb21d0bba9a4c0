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

/** A product page. Querying it counts a view. */
export const PRODUCT_QUERY: TypedDocumentNode<
  {
    viewer: Viewer;
    product: (ProductSummary & { description: string; views: number }) | null;
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
