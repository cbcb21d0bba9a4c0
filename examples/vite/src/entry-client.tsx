/**
 * The browser entry, loaded by `index.html`: hydrates the server's HTML in `[data-kiln-root]`
 * with the emotion styles and the Apollo cache the server sent.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apolloClient } from '@kiln/apollo/client';
import { hydrate } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { App } from './App';

/** What the end-to-end tests read: hydration done, and React's recoverable errors. */
interface HydrationReport {
  hydrated: boolean;
  recoverableErrors: string[];
}

declare global {
  interface Window {
    __kilnVite?: HydrationReport;
  }
}

/** This response's CSP nonce, from the `<meta property="csp-nonce">` Vite writes (`html.cspNonce`). */
const nonce =
  document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]')?.nonce || undefined;

const report: HydrationReport = { hydrated: false, recoverableErrors: [] };
window.__kilnVite = report;

hydrate(<App url={location.href} onHydrated={() => (report.hydrated = true)} />, {
  plugins: [
    emotionClient({ nonce }),
    apolloClient({
      makeClient: () =>
        new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: '/graphql' }) }),
    }),
  ],
  onRecoverableError(error) {
    report.recoverableErrors.push(String(error instanceof Error ? error.message : error));
    console.error('[kiln/example-vite] recoverable error during hydration:', error);
  },
});
