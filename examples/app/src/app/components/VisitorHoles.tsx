import { useQuery } from '@apollo/client/react';
import { type ReactNode, Suspense } from 'react';
import { PRICES_QUERY, VIEWER_QUERY } from '../queries';
import { guest, Header } from './Layout';
import { Price } from './Price';

/** The visitor's header, read per request (a hole of the shell). */
function VisitorHeader(): ReactNode {
  const { data } = useQuery(VIEWER_QUERY);
  return <Header viewer={data?.viewer ?? guest} />;
}

/** This visitor's price of one product (a hole of the shell). */
function VisitorPrice(props: { id: string; listPrice: number }): ReactNode {
  const { data } = useQuery(PRICES_QUERY);
  const price = data?.products.find((p) => p.id === props.id)?.price ?? props.listPrice;
  return <Price price={price} listPrice={props.listPrice} />;
}

/**
 * The header as a hole (partial pre-rendering): the guest's header is the fallback stored in
 * the shell, the visitor's (greeting, sign-in state, cart) is rendered for each request.
 */
export function HeaderHole(): ReactNode {
  return (
    <Suspense fallback={<Header viewer={guest} />}>
      <VisitorHeader />
    </Suspense>
  );
}

/** A price as a hole: the list price in the shell, this visitor's price rendered per request. */
export function PriceHole(props: { id: string; listPrice: number }): ReactNode {
  return (
    <Suspense fallback={<Price price={props.listPrice} listPrice={props.listPrice} />}>
      <VisitorPrice id={props.id} listPrice={props.listPrice} />
    </Suspense>
  );
}
