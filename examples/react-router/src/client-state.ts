import { readState } from '@kiln/core/client';
import type { HydrationState } from 'react-router';
import { deferredStateKey, ROUTER_STATE_KEY, type RouterState, type SettledValue } from './state';

/**
 * A promise of the value the server streams under `key`. The entry module may run while the
 * document still streams in, so it watches the document until the state element is complete.
 */
function streamedValue(key: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const observer = new MutationObserver(() => settle());
    const settle = (): boolean => {
      const settled = readState<SettledValue>(key);
      if (settled === undefined) return false;
      observer.disconnect();
      if (settled.ok) resolve(settled.value);
      else reject(new Error('[kiln/example] this part of the page failed on the server'));
      return true;
    };
    if (settle()) return;
    if (document.readyState !== 'loading') {
      reject(new Error(`[kiln/example] the page holds no state "${key}"; the server sent none`));
      return;
    }
    observer.observe(document, { childList: true, subtree: true, characterData: true });
    document.addEventListener(
      'DOMContentLoaded',
      () => {
        if (settle()) return;
        observer.disconnect();
        reject(new Error(`[kiln/example] the page holds no state "${key}"; the server sent none`));
      },
      { once: true },
    );
  });
}

/**
 * The hydration data for `createBrowserRouter`, from the state the server sent: the loaders'
 * data, their errors, and a promise in place of each deferred value.
 *
 * @example
 * const router = createBrowserRouter(routes, { hydrationData: readHydrationData() });
 */
export function readHydrationData(): HydrationState | undefined {
  const state = readState<RouterState>(ROUTER_STATE_KEY);
  if (!state) return undefined;
  const loaderData = { ...state.loaderData };
  for (const { routeId, key, id } of state.deferred) {
    loaderData[routeId] = {
      ...(loaderData[routeId] as Record<string, unknown>),
      [key]: streamedValue(deferredStateKey(id)),
    };
  }
  return { loaderData, actionData: state.actionData, errors: state.errors };
}
