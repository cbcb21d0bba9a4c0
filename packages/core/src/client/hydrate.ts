import type { ReactNode } from 'react';
import { hydrateRoot, type Root } from 'react-dom/client';
import { withClientAppStart } from '../shared/app-start';
import type { KilnClientPlugin } from '../shared/types';

/** Options of `hydrate`. */
export interface HydrateOptions {
  /** Client plugins, in the same order as the server plugins. */
  plugins?: readonly KilnClientPlugin[];
  /**
   * The element the server rendered the app into (template mode), or a selector for it.
   * Default: the element marked `data-kiln-root` by a template render, else the whole document.
   */
  container?: Element | string;
  /** Called for each error React recovered from (e.g. a hydration mismatch). Default: `console.error`. */
  onRecoverableError?: (error: unknown, info: { componentStack?: string }) => void;
  /** Must match the server's `identifierPrefix`. */
  identifierPrefix?: string;
}

function resolveContainer(container: Element | string | undefined): Element | Document {
  if (typeof container === 'string') {
    const found = document.querySelector(container);
    if (!found) {
      throw new Error(
        `[kiln/core] hydrate() found no element for the container selector ${JSON.stringify(container)}; pass the selector of the element your template renders the app into`,
      );
    }
    return found;
  }
  return container ?? document.querySelector('[data-kiln-root]') ?? document;
}

/**
 * Hydrates a page rendered by `renderToHtml`: the whole document, or the template's container.
 * Client plugins' `before()` run first (awaited, in order), then their `wrap()` is applied in
 * the same order as on the server.
 *
 * @example
 * ```tsx
 * import { hydrate, readState } from '@kiln/core/client';
 *
 * function App(props: { user: string | undefined }) {
 *   return (
 *     <html lang="en">
 *       <head />
 *       <body>Hello {props.user ?? 'visitor'}</body>
 *     </html>
 *   );
 * }
 *
 * await hydrate(<App user={readState<string>('user')} />, {
 *   onRecoverableError: (error) => console.warn(error),
 * });
 * ```
 */
export async function hydrate(element: ReactNode, options: HydrateOptions = {}): Promise<Root> {
  const plugins = options.plugins ?? [];
  for (const plugin of plugins) {
    if (plugin.before) await plugin.before();
  }
  const container = resolveContainer(options.container);
  let app = container === document ? element : withClientAppStart(element);
  for (let i = plugins.length - 1; i >= 0; i--) {
    const wrap = plugins[i]?.wrap;
    if (wrap) app = wrap.call(plugins[i], app);
  }
  return hydrateRoot(container, app, {
    ...(options.identifierPrefix !== undefined
      ? { identifierPrefix: options.identifierPrefix }
      : {}),
    onRecoverableError: (error, info) => {
      const componentStack = info.componentStack ?? undefined;
      if (options.onRecoverableError) {
        options.onRecoverableError(error, componentStack ? { componentStack } : {});
      } else {
        console.error(error);
      }
    },
  });
}
