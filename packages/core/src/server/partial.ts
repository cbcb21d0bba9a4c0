/*
 * Design note: partial pre-rendering.
 *
 * A shell is rendered once, with no visitor: `prerenderShell` runs the usual render (plugins,
 * injection queue, head/flush/end) but starts React with `prerenderToNodeStream`. Components
 * see a guarded context (`dynamic.ts`): reading request input, or `<Dynamic>`, suspends for
 * good, so the nearest boundary stays pending. The pre-render is aborted only once all static
 * work is done, never on a timer: after React's first pass, and every time no plugin has work
 * in flight (`idle()`), one macrotask lets React take the pings of what just settled (a
 * pre-render pings on microtasks); if no plugin became busy again, only the holes (and work
 * no plugin tracks) are left, and the pre-render is aborted. React then returns the prelude
 * (the shell, with each hole's fallback) and the postponed state.
 *
 * The prelude is written into the document stream as one batch, so plugins' head HTML (the
 * shell's CSS and data) lands in `<head>` as in any render. Its end `</body></html>` is cut
 * off and the nonce, put on every script and style under a random placeholder, is cut out:
 * the shell is JSON (`Shell`). Plugins snapshot what the prelude holds (`snapshot()`).
 *
 * `resumeShell` renders the same tree for one request with `resumeToPipeableStream`: plugins
 * get their snapshot back (`restore()`), the stored prelude with a fresh nonce goes out first
 * (`DocumentStream.continueAfter`), then React's segments for the holes, each preceded by the
 * plugins' flush output (styles and data of that hole), then `</body></html>`.
 */

import { escapeAttribute } from '@kiln/serialize';
import { type ReactNode, version as reactVersion } from 'react';
import { type PipeableStream, resumeToPipeableStream } from 'react-dom/server';
import { prerenderToNodeStream } from 'react-dom/static';
import {
  ContextView,
  createGuard,
  markPrerender,
  type PrerenderGuard,
  withContextView,
} from '../shared/dynamic';
import { KilnError, messageOf } from '../shared/errors';
import type { PluginInstance, RenderErrorInfo, RenderOptions, RenderResult } from '../shared/types';
import { detectBot } from './bots';
import type { Chunk } from './document-stream';
import { addNonce } from './nonce';
import { type PartialRun, type ReactStartOptions, renderPartial, renderToHtml } from './render';
import { userAgentOf } from './request';
import type { RequestContext } from './request-context';
import { splitTemplate } from './template';

/**
 * A pre-rendered page, as JSON: the prelude with its nonce cut out, React's postponed state
 * and what each plugin's shell already sent. Store it anywhere (`JSON.stringify`), and resume
 * it for each request with {@link resumeShell}. Only the same app build and React version can
 * resume it.
 *
 * - `partial`: the shell has holes, rendered per request.
 * - `static`: the page has no holes; every request gets the stored document.
 * - `dynamic`: request input was read outside any Suspense boundary, so the page cannot be
 *   partial; `resumeShell` renders it fully (see `reason`).
 *
 * Experimental.
 *
 * @example
 * ```ts
 * import type { Shell } from '@kiln/core';
 *
 * const describe = (shell: Shell) => `${shell.kind}: ${shell.holes.length} holes`;
 * ```
 */
export interface Shell {
  /** Always `kiln-shell`. */
  readonly format: 'kiln-shell';
  /** The shell format's version, 1. */
  readonly version: 1;
  /** The React version that rendered it (a resume with another version renders fully). */
  readonly react: string;
  /** `partial`, `static` or `dynamic` (see above). */
  readonly kind: 'partial' | 'static' | 'dynamic';
  /** The document up to `</body></html>`, cut where the nonce goes (join with the nonce attribute). */
  readonly prelude: readonly string[];
  /** React's postponed state (`null` unless `kind` is `partial`). */
  readonly postponed: unknown;
  /** The response status of the shell. */
  readonly status: number;
  /** Response headers the shell set, each value cut where the nonce goes. */
  readonly headers: readonly (readonly [string, readonly string[]])[];
  /** Each plugin's `snapshot()`, by plugin name. */
  readonly plugins: Readonly<Record<string, unknown>>;
  /** The components whose boundaries are holes (for diagnostics). */
  readonly holes: readonly string[];
  /** Why the page is `dynamic`. */
  readonly reason?: string;
  /**
   * True when the page was pre-rendered into a `template`: the prelude ends where the
   * template's rest begins, and `resumeShell` must get the same `template` option.
   */
  readonly template?: boolean;
}

/**
 * Options of {@link prerenderShell}: those of `renderToHtml` that do not belong to a visitor.
 * The pre-render has no request, only `url`; `mode` is always streaming and the nonce is
 * abstracted. With `template`, the shell is the template up to the app plus the app; resume
 * it with the same `template`.
 *
 * Experimental.
 *
 * @example
 * ```ts
 * import type { PrerenderOptions } from '@kiln/core';
 *
 * const options: PrerenderOptions = { url: 'https://shop.example/products', bootstrapModules: ['/client.js'] };
 * ```
 */
export interface PrerenderOptions
  extends Omit<RenderOptions, 'request' | 'mode' | 'nonce' | 'isBot' | 'trustProxy'> {
  /** The page's absolute URL (path and query included). */
  url: string | URL;
  /**
   * Request headers every request resuming this shell agrees on (for a cache, the headers its
   * key holds: `accept-language`, say). The shell is rendered with them: `ctx.headers.get()`
   * and `has()` of these names answer in the shell instead of making a hole, and plugins see
   * them too. Any other header, the cookies, and listing the headers still suspend. A
   * `cookie`, `authorization` or `proxy-authorization` here is refused: a shell is never
   * rendered with credentials.
   */
  headers?: HeadersInit;
}

/** Headers that carry a visitor's credentials: never in a shell. */
const CREDENTIAL_HEADERS = new Set(['cookie', 'authorization', 'proxy-authorization']);

const SHELL_END = '</body></html>';
const SHELL_END_BYTES = Buffer.from(SHELL_END);
const ENCODED: unique symbol = Symbol('kiln.shell.encoded');

/**
 * The prelude's parts as bytes, encoded once per shell object and kept on it (not
 * enumerable, so not stored): a shell served many times from memory is written with no copy.
 */
function encodedPrelude(shell: Shell): readonly Buffer[] {
  const holder = shell as Shell & { [ENCODED]?: readonly Buffer[] };
  const known = holder[ENCODED];
  if (known !== undefined) return known;
  const parts = shell.prelude.map((part) => Buffer.from(part));
  if (Object.isExtensible(shell)) {
    Object.defineProperty(shell, ENCODED, { value: parts, enumerable: false });
  }
  return parts;
}

/** A placeholder nonce no content can predict (the page cache's nonce rule: base64url, 24 chars). */
function placeholderNonce(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

/** The first component of a React component stack (`\n    at Name (…)`). */
function firstComponent(stack: string | undefined): string {
  const match = stack ? /at ([^\s(]+)/.exec(stack) : null;
  return match ? (match[1] as string) : 'unknown component';
}

async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream)
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(parts);
}

/**
 * Adds the nonce to the `<link rel="modulepreload">` and `<link rel="preload">` tags React wrote
 * (in React's own attribute order, `rel` first; a strict `script-src` blocks a module preload
 * without it).
 */
function withPreloadNonce(html: string, nonce: string): string {
  return html.replace(
    /<link rel="(?:modulepreload|preload)"(?![^>]*\snonce=)/g,
    (tag) => `<link nonce="${nonce}"${tag.slice('<link'.length)}`,
  );
}

/** A `KILN_PLUGIN_ERROR` that names its plugin (reported as `info.plugin`, as the plugin runner's are). */
function namedPluginError(name: string, message: string, cause: unknown): KilnError {
  const error = new KilnError('KILN_PLUGIN_ERROR', message, { cause });
  (error as KilnError & { plugin?: string }).plugin = name;
  return error;
}

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The pre-render's side of the render: starts `prerenderToNodeStream` and ends it when only holes are left. */
class PrerenderRun implements PartialRun {
  readonly guard: PrerenderGuard;
  readonly view: ContextView;
  readonly nonce: string;
  private readonly controller = new AbortController();
  private readonly staticDone = new KilnError(
    'KILN_ABORTED',
    'the pre-render ended: all static work is done and the pending boundaries are holes',
  );
  private instances: readonly [string, PluginInstance | undefined][] = [];
  private settled = false;
  /** Set when something else (timeout, signal) aborted the pre-render. */
  externalAbort: unknown;
  postponed: unknown = null;
  snapshots: Record<string, unknown> = {};
  /** Components still pending when the pre-render ended, with their React component stacks. */
  readonly pending: { name: string; inBoundary: boolean }[] = [];
  /** Set when the shell itself waited for request input (the prelude is empty). */
  dynamicShell: KilnError | undefined;

  constructor(shared: ReadonlySet<string>) {
    this.guard = createGuard(shared);
    this.view = new ContextView(this.guard);
    this.nonce = placeholderNonce();
  }

  setup(ctx: RequestContext, plugins: readonly [string, PluginInstance | undefined][]): void {
    this.view.target = ctx;
    markPrerender(ctx, this.guard);
    this.instances = plugins;
  }

  start(app: ReactNode, options: ReactStartOptions): PipeableStream {
    let prelude: Buffer = Buffer.alloc(0);
    prerenderToNodeStream(app, {
      bootstrapModules: options.bootstrapModules,
      bootstrapScripts: options.bootstrapScripts,
      bootstrapScriptContent: options.bootstrapScriptContent,
      identifierPrefix: options.identifierPrefix,
      progressiveChunkSize: options.progressiveChunkSize,
      signal: this.controller.signal,
      onError: (error: unknown, info: { componentStack?: string | null }) => {
        if (error === this.staticDone) {
          const stack = info?.componentStack ?? undefined;
          this.pending.push({
            name: firstComponent(stack),
            inBoundary: stack !== undefined && /\bat Suspense\b/.test(stack),
          });
          return undefined;
        }
        return options.onError?.(error, info as never);
      },
    }).then(
      async (result) => {
        // The prelude must be read in full before the postponed state (React issue 36779).
        prelude = await readAll(result.prelude);
        this.settled = true;
        this.postponed = result.postponed;
        if (prelude.length === 0) {
          const names = this.pending.filter((task) => !task.inBoundary).map((task) => task.name);
          const reads = [...new Set(this.guard.reads)].join(', ');
          this.dynamicShell = new KilnError(
            'KILN_DYNAMIC_SHELL',
            `${names.length > 0 ? names.join(', ') : 'a component'} read request input (${reads || 'unknown'}) outside any <Suspense> boundary, so the page cannot be pre-rendered and is rendered in full for every request; wrap that component in <Suspense> with a fallback that is the same for every visitor`,
          );
          options.onShellError?.(this.dynamicShell);
          return;
        }
        this.snapshots = this.takeSnapshots();
        options.onShellReady?.();
        options.onAllReady?.();
      },
      (error: unknown) => {
        this.settled = true;
        options.onShellError?.(error);
      },
    );
    void this.endWhenStatic();
    return {
      pipe: <T extends NodeJS.WritableStream>(destination: T): T => {
        const target = destination as T & { flush?: () => void };
        target.write(prelude);
        target.flush?.();
        target.end();
        return destination;
      },
      abort: (reason?: unknown) => {
        if (!this.settled && reason !== this.staticDone) this.externalAbort = reason;
        this.controller.abort(reason);
      },
    };
  }

  /** Aborts the pre-render once no plugin has work in flight and React took every ping. */
  private async endWhenStatic(): Promise<void> {
    const signal = this.controller.signal;
    // An abort (timeout, signal) ends the wait too, so a plugin that never becomes idle does
    // not keep this loop, and the render it holds, alive.
    const aborted = new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    for (;;) {
      await macrotask();
      if (this.settled || signal.aborted) return;
      const busy: Promise<void>[] = [];
      for (const [, instance] of this.instances) {
        const waiting = instance?.idle?.();
        if (waiting !== undefined) busy.push(waiting);
      }
      if (busy.length === 0) break;
      await Promise.race([Promise.all(busy), aborted]);
    }
    this.controller.abort(this.staticDone);
  }

  private takeSnapshots(): Record<string, unknown> {
    const snapshots: Record<string, unknown> = {};
    for (const [name, instance] of this.instances) {
      const snapshot = instance?.snapshot;
      if (!snapshot) continue;
      try {
        const value = snapshot.call(instance);
        if (value !== undefined) snapshots[name] = value;
      } catch (cause) {
        throw namedPluginError(
          name,
          `plugin "${name}" threw in snapshot(): ${messageOf(cause)}`,
          cause,
        );
      }
    }
    return snapshots;
  }
}

/**
 * Pre-renders the part of a page that is the same for every visitor, once, with no visitor:
 * components that read request input (`ctx.cookies`, `ctx.headers`, `ctx.isBot`), render
 * `<Dynamic>` or call `requestInput()` suspend, and their nearest `<Suspense>` boundaries
 * become holes. The pre-render ends when all static work is done (no plugin has work in
 * flight, React has nothing else to do), never on a timer.
 *
 * Resolves a JSON-serialisable {@link Shell}. Rejects with `KILN_PRERENDER_FAILED` when the
 * shell cannot be stored: the shell failed, a boundary outside the holes failed, the page
 * redirected, or the pre-render was aborted (timeout, signal) before its static work was done.
 * Work that no plugin tracks (a `use(promise)` of the app's own) that is still pending at the
 * end becomes a hole too.
 *
 * Experimental: the API may change in a minor version.
 *
 * @example
 * ```tsx
 * import { Suspense } from 'react';
 * import { Dynamic, prerenderShell, resumeShell } from '@kiln/core';
 *
 * function App() {
 *   return (
 *     <html lang="en">
 *       <head />
 *       <body>
 *         <h1>Shop</h1>
 *         <Suspense fallback={<p>Welcome</p>}>
 *           <Dynamic name="greeting">
 *             <p>Welcome back</p>
 *           </Dynamic>
 *         </Suspense>
 *       </body>
 *     </html>
 *   );
 * }
 *
 * const shell = await prerenderShell(<App />, { url: 'https://shop.example/' });
 * const stored = JSON.stringify(shell);
 * export async function handle(request: Request): Promise<Response> {
 *   const result = await resumeShell(JSON.parse(stored), <App />, { request });
 *   return result.toResponse();
 * }
 * ```
 */
export async function prerenderShell(app: ReactNode, options: PrerenderOptions): Promise<Shell> {
  const { url, onError, headers: given, ...rest } = options;
  const pageUrl = new URL(url);
  const shared = new Headers(given);
  for (const name of shared.keys()) {
    if (CREDENTIAL_HEADERS.has(name)) {
      throw new KilnError(
        'KILN_INVALID_SHELL_HEADERS',
        `prerenderShell({ headers }) got a ${name} header: a shell is shared by every visitor and is never rendered with credentials; pass only headers that every request resuming the shell agrees on (such as accept-language), and read credentials in a hole`,
      );
    }
  }
  const run = new PrerenderRun(new Set(shared.keys()));
  const failures: unknown[] = [];
  const report = (error: unknown, info: RenderErrorInfo): void => {
    if (error === run.dynamicShell) return;
    if (info.level !== 'warning' && (info.phase === 'boundary' || info.phase === 'shell'))
      failures.push(error);
    if (onError) onError(error, info);
    else if (info.level === 'warning') console.warn(error);
    else console.error(error);
  };
  const result = await renderPartial(
    withContextView(app, run.view),
    {
      ...rest,
      request: new Request(pageUrl, { method: 'GET', headers: shared }),
      mode: 'stream',
      nonce: run.nonce,
      onError: report,
    },
    run,
  );
  const html = await result.text();
  const base = {
    format: 'kiln-shell' as const,
    version: 1 as const,
    react: reactVersion,
  };
  if (run.dynamicShell) {
    const warning = { phase: 'shell', level: 'warning' } as const;
    if (onError) onError(run.dynamicShell, warning);
    else console.warn(run.dynamicShell);
    return {
      ...base,
      kind: 'dynamic',
      prelude: [],
      postponed: null,
      status: 200,
      headers: [],
      plugins: {},
      holes: run.pending.map((task) => task.name),
      reason: run.dynamicShell.message,
    };
  }
  // The document ends with `</body></html>`, or in template mode with the template's rest
  // (after the app), which the resume writes from its own `template` option.
  let end = SHELL_END;
  if (options.template !== undefined) {
    try {
      end = splitTemplate(options.template, run.nonce).tail;
    } catch {
      // an invalid template failed the render already (status 500)
    }
  }
  const failure =
    run.externalAbort !== undefined
      ? `it was aborted before its static work was done (${messageOf(run.externalAbort)})`
      : result.status >= 500 || failures.length > 0
        ? `the shell or a part outside the holes failed (${messageOf(failures[0])}); fix the error, or make that part a hole`
        : result.headers.has('set-cookie')
          ? 'it sets a cookie, which every visitor would get; set cookies in a hole (after the first byte they are reported) or in the request handler'
          : result.redirect !== undefined
            ? `the page redirected to ${result.redirect.url}`
            : !html.endsWith(end)
              ? options.template !== undefined
                ? 'its document does not end with the rest of the template'
                : 'its document does not end with </body></html>; render <html><head/><body>…</body></html>'
              : undefined;
  if (failure !== undefined) {
    throw new KilnError(
      'KILN_PRERENDER_FAILED',
      `the pre-render of ${pageUrl.pathname} cannot be stored as a shell because ${failure}; render the page with renderToHtml instead`,
      { cause: run.externalAbort ?? failures[0] },
    );
  }
  // React's own scripts in a prelude carry no nonce (React issue 27268), nor do its preload
  // links: give every script, style and preload link one, then cut the placeholder out.
  const prelude = addNonce(
    withPreloadNonce(end.length > 0 ? html.slice(0, -end.length) : html, run.nonce),
    run.nonce,
  ).split(` nonce="${run.nonce}"`);
  if (prelude.some((part) => part.includes(run.nonce))) {
    throw new KilnError(
      'KILN_PRERENDER_FAILED',
      `the pre-render of ${pageUrl.pathname} wrote the CSP nonce outside a nonce attribute, which a stored shell cannot replace; read ctx.nonce only for nonce attributes`,
    );
  }
  // Headers set during the pre-render (a Content-Security-Policy with the nonce, say) are
  // kept cut where the nonce stood, like the prelude.
  const headers: [string, string[]][] = [];
  result.headers.forEach((value, name) => {
    if (name !== 'content-type' && name !== 'set-cookie')
      headers.push([name, value.split(run.nonce)]);
  });
  const { postponed, plugins } = JSON.parse(
    JSON.stringify({ postponed: run.postponed, plugins: run.snapshots }),
  ) as { postponed: unknown; plugins: Record<string, unknown> };
  return {
    ...base,
    kind: postponed === null ? 'static' : 'partial',
    prelude,
    postponed,
    status: result.status,
    headers,
    plugins,
    holes: run.pending.map((task) => task.name),
    ...(options.template !== undefined ? { template: true } : {}),
  };
}

/** Checks that `shell` has the shape {@link prerenderShell} gives (it may come from a store). */
function assertShell(shell: Shell): void {
  const ok =
    typeof shell === 'object' &&
    shell !== null &&
    shell.format === 'kiln-shell' &&
    shell.version === 1 &&
    (shell.kind === 'partial' || shell.kind === 'static' || shell.kind === 'dynamic') &&
    Array.isArray(shell.prelude) &&
    shell.prelude.every((part) => typeof part === 'string') &&
    Number.isInteger(shell.status) &&
    Array.isArray(shell.headers) &&
    shell.headers.every(
      (entry) =>
        Array.isArray(entry) &&
        typeof entry[0] === 'string' &&
        Array.isArray(entry[1]) &&
        entry[1].every((part) => typeof part === 'string'),
    ) &&
    typeof shell.plugins === 'object' &&
    shell.plugins !== null &&
    (shell.kind !== 'partial' || (typeof shell.postponed === 'object' && shell.postponed !== null));
  if (!ok) {
    throw new KilnError(
      'KILN_INVALID_SHELL',
      'resumeShell() got a value that is not a shell made by prerenderShell() (format kiln-shell, version 1); store the object prerenderShell() resolved, as JSON, and pass it back unchanged',
    );
  }
}

/** The resume's side of the render: the stored prelude first, then `resumeToPipeableStream`. */
class ResumeRun implements PartialRun {
  readonly view = new ContextView(undefined);
  private readonly shell: Shell;
  private readonly nonce: string | undefined;

  constructor(shell: Shell, nonce: string | undefined) {
    this.shell = shell;
    this.nonce = nonce;
  }

  respond(ctx: RequestContext): void {
    ctx.status = this.shell.status;
    for (const [name, parts] of this.shell.headers) {
      ctx.responseHeaders.append(name, parts.join(this.nonce ?? ''));
    }
  }

  setup(ctx: RequestContext, plugins: readonly [string, PluginInstance | undefined][]): void {
    this.view.target = ctx;
    for (const [name, instance] of plugins) {
      const restore = instance?.restore;
      if (!restore) continue;
      try {
        restore.call(instance, this.shell.plugins[name]);
      } catch (cause) {
        throw namedPluginError(
          name,
          `plugin "${name}" threw in restore(): ${messageOf(cause)}; the shell may come from another version of the plugin: invalidate stored shells after a deploy`,
          cause,
        );
      }
    }
  }

  prelude(): readonly Chunk[] {
    const parts = encodedPrelude(this.shell);
    const attribute = Buffer.from(this.nonce ? ` nonce="${escapeAttribute(this.nonce)}"` : '');
    const chunks: Chunk[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (i > 0 && attribute.length > 0) chunks.push(attribute);
      chunks.push(parts[i] as Buffer);
    }
    // (in template mode the rest of the template ends the document, as in any render)
    if (this.shell.kind === 'static' && !this.shell.template) chunks.push(SHELL_END_BYTES);
    return chunks;
  }

  start(app: ReactNode, options: ReactStartOptions): PipeableStream {
    if (this.shell.kind === 'static') {
      queueMicrotask(() => {
        options.onShellReady?.();
        options.onAllReady?.();
      });
      return {
        pipe: <T extends NodeJS.WritableStream>(destination: T): T => {
          destination.end();
          return destination;
        },
        abort: () => {},
      };
    }
    // React consumes the postponed state as it replays; every resume gets its own copy.
    const postponed = structuredClone(this.shell.postponed) as Parameters<
      typeof resumeToPipeableStream
    >[1];
    // React 19.3's types say a promise; the Node build returns the stream itself.
    return resumeToPipeableStream(app, postponed, {
      nonce: options.nonce,
      onShellReady: options.onShellReady,
      onShellError: options.onShellError,
      onAllReady: options.onAllReady,
      onError: options.onError,
    }) as unknown as PipeableStream;
  }
}

/**
 * Serves one request from a {@link Shell}: the stored prelude goes out first (with this
 * response's nonce on every script and style), then the holes, rendered for this request
 * with its cookies and headers, each preceded by its styles and data, then `</body></html>`.
 * Resolves the usual `RenderResult` (status and headers of the shell).
 *
 * `app` must be the same element tree (same build) that was pre-rendered. A `dynamic` shell,
 * a shell from another React version, and crawlers (with `mode: 'auto'`) or `mode: 'buffer'`
 * get a full `renderToHtml` instead, as a resumed page needs JavaScript to show its holes; so
 * does a request whose `template` option does not match the shell's (see `Shell.template`).
 *
 * Experimental: the API may change in a minor version.
 *
 * @example
 * ```tsx
 * import { prerenderShell, resumeShell } from '@kiln/core';
 *
 * function App() {
 *   return (
 *     <html lang="en">
 *       <head />
 *       <body>
 *         <h1>Shop</h1>
 *       </body>
 *     </html>
 *   );
 * }
 *
 * const shell = await prerenderShell(<App />, { url: 'https://shop.example/' });
 * export async function handle(request: Request): Promise<Response> {
 *   const result = await resumeShell(shell, <App />, { request, nonce: crypto.randomUUID() });
 *   return result.toResponse();
 * }
 * ```
 */
export function resumeShell(
  shell: Shell,
  app: ReactNode,
  options: RenderOptions = {},
): Promise<RenderResult> {
  assertShell(shell);
  const crawler =
    options.mode === 'buffer' ||
    (options.mode !== 'stream' && detectBot(userAgentOf(options.request), options.isBot));
  if (
    shell.kind === 'dynamic' ||
    shell.react !== reactVersion ||
    crawler ||
    (options.template !== undefined) !== (shell.template === true)
  ) {
    return renderToHtml(app, options);
  }
  const run = new ResumeRun(shell, options.nonce);
  const static_ = shell.kind === 'static';
  return renderPartial(
    static_ ? null : withContextView(app, run.view),
    { ...options, mode: 'stream', ...(static_ ? { plugins: [] } : {}) },
    run,
  );
}
