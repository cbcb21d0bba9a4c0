import type {
  KilnPlugin,
  RenderContext,
  RenderOptions,
  RenderResult,
  RequestInputs,
} from '@kiln/core';
import { renderToHtml } from '@kiln/core';
import { createElement, type ReactNode } from 'react';
import { type CollectedControl, controlContext, createControl } from './control';

/** The name of the cache's plugin, and of its figures in `diagnostics.plugins`. */
export const CACHE_PLUGIN = 'kiln-cache';

/**
 * The plugin that gives a render the page cache's control (tags, maxAge, noStore); `controls`,
 * when given, maps each render context to its control while the render runs.
 */
export function controlPlugin(
  control: CollectedControl,
  controls?: WeakMap<RenderContext, CollectedControl>,
): KilnPlugin {
  return {
    name: CACHE_PLUGIN,
    setup: (ctx) => {
      controls?.set(ctx, control);
      return {
        wrap: (app) => createElement(controlContext().Provider, { value: control }, app),
        dispose: () => {
          controls?.delete(ctx);
        },
      };
    },
  };
}

/** A page rendered completely, in buffer mode, for the page cache. */
export interface RenderedPage {
  readonly result: RenderResult;
  readonly html: string;
  readonly control: CollectedControl;
  readonly nonce: string | undefined;
  /** Why the render is not complete (a render error outside the shell), if it is not. */
  readonly incomplete: string | undefined;
  /** The request inputs the request rule and the key read: what the cache decided on. */
  readonly decided: RequestInputs;
}

/**
 * Renders `element` in buffer mode with the page cache's control, so that bots and browsers
 * get the same complete document and the cache learns the page's tags and freshness.
 */
export async function renderForCache(
  element: ReactNode,
  renderOptions: RenderOptions,
  nonce: string | undefined,
  decided: RequestInputs,
  controls: WeakMap<RenderContext, CollectedControl>,
): Promise<RenderedPage> {
  const control = createControl();
  let incomplete: string | undefined;
  const onError = renderOptions.onError;
  const result = await renderToHtml(element, {
    ...renderOptions,
    nonce,
    mode: 'buffer',
    plugins: [controlPlugin(control, controls), ...(renderOptions.plugins ?? [])],
    onError: (error, errorInfo) => {
      if (errorInfo.phase !== 'context' && errorInfo.phase !== 'plugin') {
        incomplete ??= `${errorInfo.phase} error`;
      }
      if (onError) onError(error, errorInfo);
      else console.error(error);
    },
  });
  const html = await result.text();
  return { result, html, control, nonce, incomplete, decided };
}
