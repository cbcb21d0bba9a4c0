/**
 * The browser entry: a browser router over the same routes, started from the server's loader
 * data (no loader runs again), hydrating with the Apollo cache and emotion styles the server
 * sent (no GraphQL request). Later navigations run the loaders here, through Apollo.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apolloClient } from '@kiln/apollo/client';
import { hydrate, readState } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { createBrowserRouter } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { readHydrationData } from './client-state';
import { createRoutes } from './routes';
import { type ClientConfig, CONFIG_STATE_KEY } from './state';

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
const config = readState<ClientConfig>(CONFIG_STATE_KEY) ?? { graphqlUrl: '/graphql' };
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new HttpLink({ uri: config.graphqlUrl }),
});
const router = createBrowserRouter(
  createRoutes({ client, onHydrated: () => (report.hydrated = true) }),
  { hydrationData: readHydrationData() },
);

hydrate(<RouterProvider router={router} />, {
  plugins: [emotionClient(), apolloClient({ makeClient: () => client })],
  onRecoverableError(error) {
    report.recoverableErrors.push(String(error instanceof Error ? error.message : error));
    console.error('[kiln/example] recoverable error during hydration:', error);
  },
});
