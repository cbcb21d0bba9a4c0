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
