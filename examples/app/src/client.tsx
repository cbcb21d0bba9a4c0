/**
 * The browser entry of the demo shop: hydrates the server's HTML with the Apollo cache and the
 * emotion styles the server sent, so hydration makes no request and inserts no style twice.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apolloClient } from '@kiln/apollo/client';
import { hydrate, readState } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { App } from './app/App';
import { CLIENT_CONFIG_KEY, type ClientConfig } from './config';

/** What the end-to-end tests read: hydration done, and React's recoverable errors. */
interface HydrationReport {
  hydrated: boolean;
  recoverableErrors: string[];
}

declare global {
  interface Window {
    __kilnExample?: HydrationReport;
  }
}

const report: HydrationReport = { hydrated: false, recoverableErrors: [] };
window.__kilnExample = report;
const config = readState<ClientConfig>(CLIENT_CONFIG_KEY) ?? { graphqlUrl: '/graphql' };

hydrate(
  <App
    url={location.href}
    partial={config.partial === true}
    onHydrated={() => (report.hydrated = true)}
  />,
  {
    plugins: [
      emotionClient(),
      apolloClient({
        makeClient: () =>
          new ApolloClient({
            cache: new InMemoryCache(),
            link: new HttpLink({ uri: config.graphqlUrl }),
          }),
      }),
    ],
    onRecoverableError(error) {
      report.recoverableErrors.push(String(error instanceof Error ? error.message : error));
      console.error('[kiln/example] recoverable error during hydration:', error);
    },
  },
);
