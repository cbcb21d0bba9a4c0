/**
 * The shop page of `pnpm bench partial`: the visitor's header is the one hole (its `Viewer`
 * operation is personal); the 60 product cards, priced for guests, and their reviews are the
 * shell.
 */
import { useSuspenseQuery } from '@apollo/client/react';
import { apollo } from '@kiln/apollo';
import type { KilnPlugin } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import type { GraphQLSchema } from 'graphql';
import { type ReactNode, Suspense } from 'react';
import {
  EMOTION_KEY,
  makeClient,
  PRODUCTS_QUERY,
  productsVariables,
  REVIEWS_QUERY,
  reviewsVariables,
  VIEWER_QUERY,
} from './shop/index';
import { HeaderView, Loading, ProductCardView, ReviewListView } from './shop/page';

function Header(): ReactNode {
  const { data } = useSuspenseQuery(VIEWER_QUERY);
  return <HeaderView viewer={data.viewer} />;
}

function Reviews(props: { productId: string }): ReactNode {
  const { data } = useSuspenseQuery(REVIEWS_QUERY, {
    variables: reviewsVariables(props.productId),
  });
  return <ReviewListView reviews={data.reviews} />;
}

function Products(): ReactNode {
  const { data } = useSuspenseQuery(PRODUCTS_QUERY, { variables: productsVariables(null) });
  return (
    <div>
      {data.products.map((product) => (
        <ProductCardView
          key={product.id}
          product={product}
          reviews={<Reviews productId={product.id} />}
        />
      ))}
    </div>
  );
}

/** The plugins of the page: Apollo (the visitor from the `user` cookie; `Viewer` is personal) and emotion. */
export function partialShopPlugins(schema: GraphQLSchema): KilnPlugin[] {
  return [
    apollo({
      makeClient: (ctx) => makeClient({ schema, user: ctx.cookies.user }),
      personal: ({ operationName }) => operationName === 'Viewer',
    }),
    emotion({ key: EMOTION_KEY }),
  ];
}

/** The shop with the visitor's header as its one hole. */
export function PartialShopPage(): ReactNode {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <title>Kiln Pottery</title>
      </head>
      <body>
        <Suspense fallback={<Loading lines={3} />}>
          <Header />
        </Suspense>
        <main>
          <Products />
        </main>
      </body>
    </html>
  );
}
