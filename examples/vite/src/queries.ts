import { gql, type TypedDocumentNode } from '@apollo/client';

/** A product as the catalogue lists it. */
export interface CatalogueItem {
  id: string;
  name: string;
  hue: number;
  price: number;
}

/** The catalogue page: every product with this visitor's price. */
export const CATALOGUE_QUERY: TypedDocumentNode<{ products: CatalogueItem[] }> = gql`
  query Catalogue {
    products {
      id
      name
      hue
      price
    }
  }
`;

/** A staff pick: a product and why the staff like it. */
export interface StaffPick {
  id: string;
  reason: string;
  product: { id: string; name: string; hue: number };
}

/** Staff picks: a deliberately slow query, streamed in after the shell. */
export const PICKS_QUERY: TypedDocumentNode<{ picks: StaffPick[] }> = gql`
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
