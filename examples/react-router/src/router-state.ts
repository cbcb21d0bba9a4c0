import type { KilnPlugin } from '@kiln/core';
import { isRouteErrorResponse, type StaticHandlerContext } from 'react-router';
import {
  deferredStateKey,
  ROUTER_STATE_KEY,
  type RouteErrorData,
  type RouterState,
  type SettledValue,
} from './state';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function plainError(error: unknown): RouteErrorData {
  if (isRouteErrorResponse(error)) {
    const { status, statusText, internal, data } = error as typeof error & { internal: boolean };
    return { status, statusText, internal, data: internal ? null : data };
  }
  // A loader that failed unexpectedly: its message and stack stay on the server.
  return { status: 500, statusText: 'Internal Server Error', internal: true, data: null };
}

/**
 * The Kiln plugin that turns React Router's result for this request into the response: the
 * status the loaders chose, and the hydration state for `createBrowserRouter`. Promises in the
 * loader data (deferred values) are taken out and streamed as separate state once they settle,
 * before the boundary that shows them; the document's end waits for them.
 *
 * @example
 * renderToHtml(<StaticRouterProvider router={router} context={context} hydrate={false} />, {
 *   plugins: [routerState(context), emotion(), apollo({ client })],
 * });
 */
export function routerState(context: StaticHandlerContext): KilnPlugin {
  return {
    name: 'react-router',
    setup(ctx) {
      if (context.statusCode !== 200) ctx.setStatus(context.statusCode);
      const state: RouterState = {
        loaderData: {},
        actionData: context.actionData,
        errors: null,
        deferred: [],
      };
      for (const [routeId, value] of Object.entries(context.loaderData)) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          state.loaderData[routeId] = value;
          continue;
        }
        const plain: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) {
          if (!isThenable(item)) {
            plain[key] = item;
            continue;
          }
          plain[key] = null;
          const id = state.deferred.length;
          state.deferred.push({ routeId, key, id });
          const send = (settled: SettledValue) => ctx.setState(deferredStateKey(id), settled);
          ctx.waitFor(
            Promise.resolve(item).then(
              (resolved) => send({ ok: true, value: resolved }),
              (error: unknown) => {
                ctx.reportError(error, { phase: 'boundary' });
                send({ ok: false });
              },
            ),
          );
        }
        state.loaderData[routeId] = plain;
      }
      if (context.errors) {
        state.errors = Object.fromEntries(
          Object.entries(context.errors).map(([routeId, error]) => [routeId, plainError(error)]),
        );
      }
      ctx.setState(ROUTER_STATE_KEY, state);
      return {};
    },
  };
}
