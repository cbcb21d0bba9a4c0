import { Component, createElement, type ReactNode, useLayoutEffect } from 'react';
import { hydrateRoot, type Root } from 'react-dom/client';
import { withClientAppStart } from '../shared/app-start';
import { isStoppedBoundary } from '../shared/errors';
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
  /**
   * Called for each error React recovered from (e.g. a hydration mismatch, a boundary the
   * server could not render). Default: `console.error`, except for the boundaries the server's
   * `timeoutMs` or `signal` stopped on purpose (React error #419 "switched to client
   * rendering"), which are expected and reported on the server already. A function given here
   * receives those too; they carry `digest: 'KILN_TIMEOUT'` or `'KILN_ABORTED'`.
   */
  onRecoverableError?: (error: unknown, info: { componentStack?: string }) => void;
  /**
   * Called for each error an error boundary caught, the app's own and the one `hydrate` adds
   * (see `keepHtmlOnError`), with React's component stack. Default: `console.error`.
   */
  onCaughtError?: (error: unknown, info: { componentStack?: string }) => void;
  /**
   * What the browser shows when rendering fails and no error boundary of the app catches it,
   * typically a Suspense boundary whose server render failed and whose retry in the browser
   * fails again. By default (`true`) the page keeps the HTML it had (the server's), static
   * but readable, and the error goes to `onCaughtError`. With `false`, React's own behaviour:
   * the root unmounts, the page goes blank and the error is reported as uncaught. An error
   * boundary of the app itself always takes precedence.
   */
  keepHtmlOnError?: boolean;
  /** Must match the server's `identifierPrefix`. */
  identifierPrefix?: string;
}

/** Children and attributes of the elements that hold the page, to put back after a failure. */
interface Snapshot {
  element: Element;
  nodes: Node[];
  attributes: [string, string][];
}

function takeSnapshot(container: Element | Document): Snapshot[] {
  const elements =
    container instanceof Document
      ? [container.documentElement, container.head, container.body]
      : [container];
  return elements.map((element) => ({
    element,
    nodes:
      container instanceof Document && element === container.documentElement
        ? []
        : [...element.childNodes],
    attributes: [...element.attributes].map((a): [string, string] => [a.name, a.value]),
  }));
}

/** Puts back, in their places, the nodes and attributes React removed. */
function restoreSnapshot(snapshots: Snapshot[]): void {
  for (const { element, nodes, attributes } of snapshots) {
    let next: Node | null = null;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      if (node.parentNode !== element) element.insertBefore(node, next);
      next = node;
    }
    for (const [name, value] of attributes) {
      if (!element.hasAttribute(name)) element.setAttribute(name, value);
    }
  }
}

function KeptHtml(props: { snapshot: Snapshot[] }): ReactNode {
  useLayoutEffect(() => restoreSnapshot(props.snapshot), [props.snapshot]);
  return null;
}

interface KeepHtmlProps {
  container: Element | Document;
  children?: ReactNode;
}

/**
 * The error boundary `hydrate` puts around the app: when rendering fails, it renders nothing
 * and, before the browser paints, puts back the DOM the page had when the error was caught.
 */
class KeepHtmlOnError extends Component<KeepHtmlProps, { failed: boolean }> {
  override state = { failed: false };
  private snapshot: Snapshot[] | undefined;

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    // Still the DOM of before the failure: React commits the fallback after this render.
    this.snapshot ??= takeSnapshot(this.props.container);
    return createElement(KeptHtml, { snapshot: this.snapshot });
  }
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
  if (options.keepHtmlOnError !== false) {
    app = createElement(KeepHtmlOnError, { container }, app);
  }
  const onCaughtError = options.onCaughtError;
  return hydrateRoot(container, app, {
    ...(options.identifierPrefix !== undefined
      ? { identifierPrefix: options.identifierPrefix }
      : {}),
    ...(onCaughtError
      ? {
          onCaughtError: (error: unknown, info: { componentStack?: string | undefined }) => {
            const componentStack = info.componentStack ?? undefined;
            onCaughtError(error, componentStack ? { componentStack } : {});
          },
        }
      : {}),
    onRecoverableError: (error, info) => {
      const componentStack = info.componentStack ?? undefined;
      if (options.onRecoverableError) {
        options.onRecoverableError(error, componentStack ? { componentStack } : {});
      } else if (!isStoppedBoundary(error)) {
        // A boundary the server's timeout or abort stopped on purpose is rendered here, as
        // planned (React error #419): the server reported it already. Anything else is logged.
        console.error(error);
      }
    },
  });
}
