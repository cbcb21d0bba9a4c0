import { type Context, createContext, useContext } from 'react';
import { KilnError } from './errors';
import type { RenderContext } from './types';

const RENDER_CONTEXT_KEY = Symbol.for('@kiln/core/render-context');

/**
 * The React context that carries the request's `RenderContext`. It is created once and kept
 * under a global symbol, so the server and client entries (and an ESM and a CJS copy of the
 * package) share one context object. It holds no request data itself.
 */
export function renderContextReact(): Context<RenderContext | undefined> {
  const registry = globalThis as { [RENDER_CONTEXT_KEY]?: Context<RenderContext | undefined> };
  let context = registry[RENDER_CONTEXT_KEY];
  if (context === undefined) {
    context = createContext<RenderContext | undefined>(undefined);
    context.displayName = 'KilnRenderContext';
    registry[RENDER_CONTEXT_KEY] = context;
  }
  return context;
}

/** Whether this code runs in a browser (or a DOM that stands for one, as jsdom in tests). */
function inBrowser(): boolean {
  return typeof window !== 'undefined' && typeof document !== 'undefined';
}

/**
 * The request's `RenderContext`, by the same rule from `@kiln/core` and `@kiln/core/client`:
 *
 * - inside a `renderToHtml` render: the request's context;
 * - in the browser (hydration, client renders): `undefined`, as no request is rendered
 *   there. Only `@kiln/core/client` loads in a browser, so only its type includes it;
 * - on the server outside a `renderToHtml` render (another renderer, a test calling the
 *   component): it throws a `KilnError` with code `KILN_NO_RENDER_CONTEXT`.
 *
 * Read the request (`url`, `headers`, `cookies`) and shape the response (`setStatus`,
 * `redirect`, `setHeader`) from any component. In components that also run in the browser,
 * import it from `@kiln/core/client` and use `?.`.
 *
 * @example
 * ```tsx
 * import { useRenderContext } from '@kiln/core/client';
 *
 * export function NotFound() {
 *   useRenderContext()?.setStatus(404);
 *   return <h1>Not found</h1>;
 * }
 * ```
 */
export function useRenderContext(): RenderContext | undefined {
  const ctx = useContext(renderContextReact());
  if (ctx !== undefined || inBrowser()) return ctx;
  throw noRenderContext();
}

/** The error of `useRenderContext()` called on the server outside a render. */
export function noRenderContext(): KilnError {
  return new KilnError(
    'KILN_NO_RENDER_CONTEXT',
    'useRenderContext() was called outside a renderToHtml() render; render the component through renderToHtml, or import useRenderContext from @kiln/core/client in components that also run in the browser',
  );
}
