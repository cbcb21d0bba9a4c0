/** The state key under which the server hands the browser its {@link ClientConfig}. */
export const CLIENT_CONFIG_KEY = 'example-config';

/** What the browser needs to know about this deployment. */
export interface ClientConfig {
  /** The GraphQL endpoint the browser queries (`/graphql`, or `GRAPHQL_URL`). */
  graphqlUrl: string;
  /** The pages are built for partial pre-rendering (`KILN_CACHE=partial`). */
  partial?: boolean;
}
