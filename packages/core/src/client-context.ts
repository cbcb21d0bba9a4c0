import { useOptionalRenderContext } from './context-react';
import type { RenderContext } from './types';

/**
 * The request's `RenderContext` during a server render, `undefined` in the browser. Import it
 * from `@kiln/core/client` in components that run on both sides.
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
  return useOptionalRenderContext();
}
