import { KilnError } from '../shared/errors';

/** What the check reads from the global scope (a parameter, so a test can hand it another). */
export interface Globals {
  readonly window?: unknown;
  readonly document?: unknown;
  readonly navigator?: { readonly userAgent?: string };
  readonly process?: { readonly env?: Record<string, string | undefined> };
}

/**
 * Throws when the server entry of `@kiln/core` is loaded in a browser: a bundle that pulls
 * it into client code fails at once with a message saying what to import instead, rather
 * than failing later on a Node API. A DOM that tests set up on the server (jsdom, happy-dom,
 * or any code under a test runner) is not a browser here.
 */
export function assertNotInBrowser(scope: Globals): void {
  if (scope.window === undefined || scope.document === undefined) return;
  const userAgent = scope.navigator?.userAgent ?? '';
  if (/\b(jsdom|happy-?dom)\b/i.test(userAgent)) return;
  const env = scope.process?.env;
  if (
    env &&
    (env.VITEST !== undefined || env.JEST_WORKER_ID !== undefined || env.NODE_ENV === 'test')
  )
    return;
  throw new KilnError(
    'KILN_SERVER_ENTRY_IN_BROWSER',
    '@kiln/core is the server entry and was loaded in a browser; import hydrate, readState and useRenderContext from @kiln/core/client in code that runs in the browser, and keep renderToHtml in server code',
  );
}
