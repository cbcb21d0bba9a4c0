import { type ApolloClient, ApolloLink } from '@apollo/client';
import { Observable, type Subscription } from 'rxjs';
import type { ServerRecord } from './server-record';

/**
 * A link that answers an operation the server still has in flight with the server's result
 * once it arrives in the stream, instead of sending it again; any other operation goes on.
 * When the stream ends without that result, the operation goes on to the network then.
 */
export function serverResultLink(
  record: ServerRecord,
  client: () => ApolloClient | undefined,
): ApolloLink {
  return new ApolloLink((operation, forward) => {
    const run = record.runningFor(operation.query, operation.variables);
    if (!run) return forward(operation);
    return new Observable<ApolloLink.Result>((subscriber) => {
      let closed = false;
      let inner: Subscription | undefined;
      void run.done.then(() => {
        if (closed) return;
        const diff = client()?.cache.diff<Record<string, unknown>>({
          query: operation.query,
          variables: operation.variables,
          returnPartialData: false,
          optimistic: false,
        });
        if (diff?.complete && diff.result) {
          subscriber.next({ data: diff.result });
          subscriber.complete();
        } else {
          inner = forward(operation).subscribe(subscriber);
        }
      });
      return () => {
        closed = true;
        inner?.unsubscribe();
      };
    });
  });
}
