import { type Context, createContext, useContext } from 'react';
import type { RenderContext } from './types';

const registryKey = Symbol.for('@kiln/core/render-context');

/**
 * The React context that carries the request's `RenderContext`. It is created once and kept
 * under a global symbol, so the server and client entries (and an ESM and a CJS copy of the
 * package) share one context object. It holds no request data itself.
 */
export function renderContextReact(): Context<RenderContext | undefined> {
  const registry = globalThis as { [registryKey]?: Context<RenderContext | undefined> };
  let context = registry[registryKey];
  if (context === undefined) {
    context = createContext<RenderContext | undefined>(undefined);
    context.displayName = 'KilnRenderContext';
    registry[registryKey] = context;
  }
  return context;
}

/** The request's `RenderContext`, or `undefined` outside a Kiln server render (e.g. in the browser). */
export function useOptionalRenderContext(): RenderContext | undefined {
  return useContext(renderContextReact());
}
