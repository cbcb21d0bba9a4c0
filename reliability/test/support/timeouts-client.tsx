/**
 * The browser entry of `timeouts.test.tsx`: hydrates {@link TimeoutPage} with the Apollo data
 * and emotion styles the server sent, and records React's recoverable errors.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apolloClient } from '@kiln/apollo/client';
import { hydrate } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { TimeoutPage } from './timeouts-app';

// The same shape as core's browser fixture declares: one program type-checks both.
declare global {
  interface Window {
    __recoverable: string[];
    __hydrated: boolean;
  }
}

const recoverable: string[] = [];
window.__recoverable = recoverable;

const onHydrated = () => {
  window.__hydrated = true;
};

void hydrate(<TimeoutPage onHydrated={onHydrated} />, {
  plugins: [
    emotionClient(),
    apolloClient({
      makeClient: () =>
        new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: '/graphql' }) }),
    }),
  ],
  onRecoverableError: (error) => {
    recoverable.push(error instanceof Error ? error.message : String(error));
  },
});
