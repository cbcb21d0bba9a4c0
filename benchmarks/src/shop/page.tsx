/** @jsxImportSource @emotion/react */
/**
 * The shop page in two variants sharing every view component:
 *
 * - {@link ShopPage}: a 3-level `useQuery` waterfall. The viewer decides the products query's
 *   variables, and every card runs its own reviews query (62 operations for 60 products).
 * - {@link ShopSuspensePage}: the same data through `useSuspenseQuery`, with a Suspense boundary
 *   around the greeting, one around the product grid, and one per card.
 *
 * About twenty emotion rules, written with `@emotion/styled` and the `css` prop; several depend
 * on data (badge, stock, rating, accent colour, discount) and on the visitor (tier).
 * Neither variant includes providers: wrap it with an `ApolloProvider` and an emotion
 * `CacheProvider` (see `withProviders`), or let Kiln's plugins do it.
 */
import { useQuery, useSuspenseQuery } from '@apollo/client/react';
import { css } from '@emotion/react';
import styled from '@emotion/styled';
import { type ReactNode, Suspense } from 'react';
import type { Tier } from './data';
import {
  PRODUCTS_QUERY,
  type Product,
  productsVariables,
  REVIEWS_QUERY,
  type Review,
  reviewsVariables,
  VIEWER_QUERY,
  type Viewer,
} from './queries';

/** Keeps a styling prop off the DOM element (emotion forwards any prop that is a valid attribute somewhere, such as `low`). */
function without(prop: string): { shouldForwardProp: (name: string) => boolean } {
  return { shouldForwardProp: (name) => name !== prop };
}

const tierColors: Record<Tier | 'GUEST', string> = {
  GUEST: '#eceff1',
  MEMBER: '#e3f2fd',
  SILVER: '#eeeeee',
  GOLD: '#fff3c4',
};

const PageFrame = styled.div`
  font-family: system-ui, -apple-system, 'Segoe UI', sans-serif;
  color: #1d1d1f;
  max-width: 1200px;
  margin: 0 auto;
  padding: 0 16px 48px;
`;

const Header = styled.header`
  display: flex;
  align-items: center;
  justify-content: space-between;
  gap: 16px;
  padding: 16px 0;
  border-bottom: 1px solid #e0e0e0;
`;

const Logo = styled.a`
  font-size: 24px;
  font-weight: 800;
  letter-spacing: -0.02em;
  color: #b5523b;
  text-decoration: none;
`;

const Greeting = styled('div', without('tier'))<{ tier: Tier | 'GUEST' }>`
  flex: 1;
  padding: 8px 12px;
  border-radius: 8px;
  background: ${(props) => tierColors[props.tier]};
  font-weight: ${(props) => (props.tier === 'GOLD' ? 700 : 400)};
`;

const CartButton = styled('button', without('filled'))<{ filled: boolean }>`
  border: 0;
  border-radius: 999px;
  padding: 8px 14px;
  background: ${(props) => (props.filled ? '#1d1d1f' : '#f5f5f7')};
  color: ${(props) => (props.filled ? '#fff' : '#1d1d1f')};
  cursor: pointer;
`;

const Grid = styled.ul`
  list-style: none;
  margin: 0;
  padding: 0;
  display: grid;
  grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
  gap: 20px;
`;

const Card = styled('li', without('accent'))<{ accent: string }>`
  display: flex;
  flex-direction: column;
  gap: 8px;
  padding: 16px;
  border-radius: 12px;
  border-top: 4px solid ${(props) => props.accent};
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.12);
  background: #fff;
`;

const ProductName = styled.h2`
  font-size: 17px;
  line-height: 1.3;
  margin: 0;
`;

const badgeColors: Record<string, string> = {
  NEW: '#2c8a8a',
  SALE: '#c62828',
  BESTSELLER: '#6a1b9a',
};

const Badge = styled('span', without('kind'))<{ kind: string }>`
  align-self: flex-start;
  padding: 2px 8px;
  border-radius: 4px;
  font-size: 11px;
  font-weight: 700;
  text-transform: uppercase;
  color: #fff;
  background: ${(props) => badgeColors[props.kind] ?? '#455a64'};
`;

const Description = styled.p`
  margin: 0;
  font-size: 14px;
  color: #424245;
`;

const PriceRow = styled.div`
  display: flex;
  align-items: baseline;
  gap: 8px;
`;

const Price = styled('strong', without('discounted'))<{ discounted: boolean }>`
  font-size: 20px;
  color: ${(props) => (props.discounted ? '#c62828' : '#1d1d1f')};
`;

const ListPrice = styled.s`
  font-size: 14px;
  color: #86868b;
`;

const Stars = styled('div', without('rating'))<{ rating: number }>`
  position: relative;
  width: 90px;
  height: 16px;
  background: linear-gradient(90deg, #f5a623 ${(props) => Math.round(props.rating * 20)}%, #ddd 0);
  border-radius: 3px;
`;

const Stock = styled('p', without('low'))<{ low: boolean }>`
  margin: 0;
  font-size: 13px;
  color: ${(props) => (props.low ? '#c62828' : '#2e7d32')};
  font-weight: ${(props) => (props.low ? 700 : 400)};
`;

const ReviewList = styled.ol`
  list-style: none;
  margin: 8px 0 0;
  padding: 8px 0 0;
  border-top: 1px solid #f0f0f0;
  display: flex;
  flex-direction: column;
  gap: 10px;
`;

const ReviewItem = styled.li`
  font-size: 13px;
  line-height: 1.45;
`;

const ReviewHead = styled.div`
  display: flex;
  justify-content: space-between;
  color: #6e6e73;
`;

const Placeholder = styled('div', without('lines'))<{ lines: number }>`
  height: ${(props) => props.lines * 18}px;
  border-radius: 6px;
  background: #f2f2f2;
`;

const Footer = styled.footer`
  margin-top: 40px;
  padding-top: 16px;
  border-top: 1px solid #e0e0e0;
  font-size: 12px;
  color: #86868b;
`;

const heading = css`
  font-size: 28px;
  margin: 24px 0 16px;
`;

const reviewTitle = css`
  display: block;
  font-weight: 600;
  color: #1d1d1f;
`;

function addToCart(productId: string): () => void {
  return () => {
    if (typeof document !== 'undefined')
      document.dispatchEvent(new CustomEvent('cart', { detail: productId }));
  };
}

/** The page header: the logo, the greeting for the viewer (or a guest) and the cart. */
export function HeaderView({ viewer }: { viewer: Viewer | null }): ReactNode {
  return (
    <Header>
      <Logo href="/">Kiln Pottery</Logo>
      <Greeting tier={viewer?.tier ?? 'GUEST'} data-testid="greeting">
        {viewer ? (
          <>
            Welcome back, <b>{viewer.name}</b> — {viewer.tier.toLowerCase()} member prices in{' '}
            {viewer.currency}
          </>
        ) : (
          <>Welcome, guest. Sign in for member prices.</>
        )}
      </Greeting>
      <CartButton type="button" filled={(viewer?.cartCount ?? 0) > 0}>
        Cart ({viewer?.cartCount ?? 0})
      </CartButton>
    </Header>
  );
}

/** One review. */
export function ReviewView({ review }: { review: Review }): ReactNode {
  return (
    <ReviewItem>
      <ReviewHead>
        <span>{review.author}</span>
        <span>
          {'★'.repeat(review.rating)}
          {'☆'.repeat(5 - review.rating)}
        </span>
      </ReviewHead>
      <span css={reviewTitle}>{review.title}</span>
      <span>{review.body}</span>{' '}
      <time dateTime={review.createdAt} css={{ color: '#86868b', fontSize: 11 }}>
        {review.createdAt}
      </time>
    </ReviewItem>
  );
}

/** A product card; `reviews` is the card's reviews, or a placeholder while they load. */
export function ProductCardView({
  product,
  reviews,
}: {
  product: Product;
  reviews: ReactNode;
}): ReactNode {
  const discounted = product.price.amount < product.listPrice.amount;
  return (
    <Card accent={product.color} data-product={product.id}>
      <ProductName>{product.name}</ProductName>
      {product.badge ? <Badge kind={product.badge}>{product.badge}</Badge> : null}
      <Description>{product.description}</Description>
      <PriceRow>
        <Price discounted={discounted}>{product.price.formatted}</Price>
        {discounted ? <ListPrice>{product.listPrice.formatted}</ListPrice> : null}
      </PriceRow>
      <Stars rating={product.rating} title={`${product.rating} of 5 (${product.reviewCount})`} />
      <Stock low={product.stock < 5}>
        {product.stock === 0
          ? 'Sold out'
          : product.stock < 5
            ? `Only ${product.stock} left`
            : 'In stock'}
      </Stock>
      {reviews}
      <button
        type="button"
        disabled={product.stock === 0}
        onClick={addToCart(product.id)}
        css={css`
          margin-top: auto;
          padding: 10px;
          border: 0;
          border-radius: 8px;
          background: ${product.stock === 0 ? '#d2d2d7' : product.color};
          color: #fff;
          font-weight: 600;
        `}
      >
        Add to cart
      </button>
    </Card>
  );
}

/** The reviews of one card. */
export function ReviewListView({ reviews }: { reviews: readonly Review[] }): ReactNode {
  return (
    <ReviewList>
      {reviews.map((review) => (
        <ReviewView key={review.id} review={review} />
      ))}
    </ReviewList>
  );
}

/** A grey block shown while data loads. */
export function Loading({ lines = 1 }: { lines?: number }): ReactNode {
  return <Placeholder lines={lines} aria-busy="true" />;
}

function Layout({ header, children }: { header: ReactNode; children: ReactNode }): ReactNode {
  return (
    <PageFrame>
      {header}
      <main>
        <h1 css={heading}>Handmade ceramics</h1>
        {children}
      </main>
      <Footer>© Kiln Pottery. Prices include VAT. Reviews are written by customers.</Footer>
    </PageFrame>
  );
}

// --- useQuery waterfall -------------------------------------------------------------------

function QueryReviews({ productId }: { productId: string }): ReactNode {
  const { data } = useQuery(REVIEWS_QUERY, { variables: reviewsVariables(productId) });
  return data ? <ReviewListView reviews={data.reviews} /> : <Loading lines={5} />;
}

function QueryProducts({ viewer }: { viewer: Viewer | null }): ReactNode {
  const { data } = useQuery(PRODUCTS_QUERY, { variables: productsVariables(viewer) });
  if (!data) return <Loading lines={20} />;
  return (
    <Grid>
      {data.products.map((product) => (
        <ProductCardView
          key={product.id}
          product={product}
          reviews={<QueryReviews productId={product.id} />}
        />
      ))}
    </Grid>
  );
}

/**
 * The shop page as a `useQuery` waterfall: viewer → products → one reviews query per card.
 *
 * @example
 * ```tsx
 * renderToString(withProviders(<ShopPage />, { client, emotionCache }));
 * ```
 */
export function ShopPage(): ReactNode {
  const { data } = useQuery(VIEWER_QUERY);
  if (!data) {
    return (
      <Layout header={<HeaderView viewer={null} />}>
        <Loading lines={20} />
      </Layout>
    );
  }
  return (
    <Layout header={<HeaderView viewer={data.viewer} />}>
      <QueryProducts viewer={data.viewer} />
    </Layout>
  );
}

// --- useSuspenseQuery, a boundary per card ------------------------------------------------

function SuspenseHeader(): ReactNode {
  const { data } = useSuspenseQuery(VIEWER_QUERY);
  return <HeaderView viewer={data.viewer} />;
}

function SuspenseReviews({ productId }: { productId: string }): ReactNode {
  const { data } = useSuspenseQuery(REVIEWS_QUERY, { variables: reviewsVariables(productId) });
  return <ReviewListView reviews={data.reviews} />;
}

function SuspenseProducts(): ReactNode {
  const { data: viewerData } = useSuspenseQuery(VIEWER_QUERY);
  const { data } = useSuspenseQuery(PRODUCTS_QUERY, {
    variables: productsVariables(viewerData.viewer),
  });
  return (
    <Grid>
      {data.products.map((product) => (
        <ProductCardView
          key={product.id}
          product={product}
          reviews={
            <Suspense fallback={<Loading lines={5} />}>
              <SuspenseReviews productId={product.id} />
            </Suspense>
          }
        />
      ))}
    </Grid>
  );
}

/**
 * The shop page with `useSuspenseQuery`: the shell (frame, heading, footer) needs no data; the
 * greeting, the grid and every card's reviews each sit in their own Suspense boundary.
 *
 * @example
 * ```tsx
 * const stream = renderToPipeableStream(withProviders(<ShopSuspensePage />, { client, emotionCache }));
 * ```
 */
export function ShopSuspensePage(): ReactNode {
  return (
    <Layout
      header={
        <Suspense fallback={<Loading lines={3} />}>
          <SuspenseHeader />
        </Suspense>
      }
    >
      <Suspense fallback={<Loading lines={20} />}>
        <SuspenseProducts />
      </Suspense>
    </Layout>
  );
}
