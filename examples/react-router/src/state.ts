/**
 * What the server hands the browser's router, through Kiln state (`@kiln/serialize`), so that
 * hydration neither runs the loaders again nor fetches anything.
 */

/** State key of {@link RouterState}. */
export const ROUTER_STATE_KEY = 'react-router';

/** State key of the settled value of deferred loader value number `id`. */
export function deferredStateKey(id: number): string {
  return `react-router.deferred.${id}`;
}

/** A route error as plain data (what `isRouteErrorResponse` recognises). */
export interface RouteErrorData {
  status: number;
  statusText: string;
  internal: boolean;
  data: unknown;
}

/** The router's state after the server's loaders, promises taken out. */
export interface RouterState {
  loaderData: Record<string, unknown>;
  actionData: Record<string, unknown> | null;
  errors: Record<string, RouteErrorData> | null;
  /** Promises of the loader data (set to `null` in it), each streamed under {@link deferredStateKey}. */
  deferred: { routeId: string; key: string; id: number }[];
}

/** How a deferred value settled. No error detail reaches the page. */
export type SettledValue = { ok: true; value: unknown } | { ok: false };

/** State key of {@link ClientConfig}. */
export const CONFIG_STATE_KEY = 'react-router.config';

/** What the browser needs to know about this deployment. */
export interface ClientConfig {
  /** The GraphQL endpoint the browser queries (`/graphql`, or `GRAPHQL_URL`). */
  graphqlUrl: string;
}
