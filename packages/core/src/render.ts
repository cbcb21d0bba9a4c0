import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { isValidNonce } from '@kiln/serialize';
import { createElement, type ReactNode } from 'react';
import { type PipeableStream, renderToPipeableStream } from 'react-dom/server';
import { appStartHtml, appStartToken, withServerAppStart } from './app-start';
import { detectBot } from './bots';
import { type ContextHost, isHttpUrl, RequestContext } from './context';
import { renderContextReact } from './context-react';
import { errorDocument, redirectDocument } from './documents';
import { invalidNonceError, KilnError, messageOf, stoppedDigest } from './errors';
import {
  type Chunk,
  DocumentStream,
  type Layout,
  type Sink,
  type StreamHost,
} from './injection-queue';
import { addNonce } from './nonce';
import { userAgentOf } from './request';
import { pipeTo, type SinkHost, toText, toWebResponse } from './sinks';
import { splitTemplate } from './template';
import type {
  KilnPlugin,
  PluginInstance,
  RedirectInfo,
  RenderDiagnostics,
  RenderErrorInfo,
  RenderOptions,
  RenderResult,
} from './types';

/**
 * The default of `timeoutMs`: after this many milliseconds the render is aborted and pending
 * Suspense boundaries fall back to client rendering.
 *
 * @example
 * ```ts
 * import { DEFAULT_TIMEOUT_MS } from '@kiln/core';
 *
 * const timeoutMs = Math.min(DEFAULT_TIMEOUT_MS, 5_000);
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 10_000;

const DOCUMENT_LAYOUT: Layout = { kind: 'document' };

/** Buffer mode passes this as `progressiveChunkSize`, so React inlines every finished boundary. */
const INLINE_ALL_BOUNDARIES = Number.MAX_SAFE_INTEGER;

interface PluginEntry {
  readonly plugin: KilnPlugin;
  instance: PluginInstance | undefined;
  ms: number;
}

type Hook = 'setup' | 'wrap' | 'prepare' | 'head' | 'flush' | 'end' | 'dispose' | 'diagnostics';

/**
 * Renders a React 19 app to an HTML response. Resolves when the response can start: when the
 * shell is ready while streaming, when everything is ready when buffering. Never rejects for
 * render errors: a shell error resolves a 500 result with an error document.
 *
 * @example
 * ```tsx
 * import { createServer } from 'node:http';
 * import { renderToHtml } from '@kiln/core';
 *
 * function App() {
 *   return (
 *     <html lang="en">
 *       <head />
 *       <body>
 *         <title>Hello</title>
 *         <h1>Hello from the server</h1>
 *       </body>
 *     </html>
 *   );
 * }
 *
 * createServer(async (req, res) => {
 *   const result = await renderToHtml(<App />, {
 *     request: req,
 *     bootstrapModules: ['/assets/client.js'],
 *   });
 *   result.pipe(res);
 * }).listen(3000);
 * ```
 */
export function renderToHtml(
  element: ReactNode,
  options: RenderOptions = {},
): Promise<RenderResult> {
  return new Render(element, options).run();
}

/**
 * How partial pre-rendering (`partial.ts`) runs a render: it starts React itself (a pre-render
 * or a resume instead of `renderToPipeableStream`), sees the context and the plugin instances
 * once they are set up, and (on resume) gives the stored prelude that goes out before React's
 * output. Internal: not exported from the package entry.
 */
export interface PartialRun {
  start(app: ReactNode, options: ReactStartOptions): PipeableStream;
  setup(ctx: RequestContext, plugins: readonly [string, PluginInstance | undefined][]): void;
  prelude?(): readonly Chunk[];
}

/** What `Render` hands to React's renderer. */
export type ReactStartOptions = Parameters<typeof renderToPipeableStream>[1] & {};

/** `renderToHtml` with a partial pre-rendering run (internal, see {@link PartialRun}). */
export function renderPartial(
  element: ReactNode,
  options: RenderOptions,
  partial: PartialRun,
): Promise<RenderResult> {
  return new Render(element, options, partial).run();
}

class Render implements ContextHost, StreamHost, SinkHost {
  private readonly startedAt = performance.now();
  private readonly options: RenderOptions;
  private readonly element: ReactNode;
  /** Created on first use of the signal (an AbortController costs more than the rest of the setup). */
  private controller: AbortController | undefined;
  private abortReason: KilnError | undefined;
  private readonly ctx: RequestContext;
  private readonly stream: DocumentStream;
  private readonly plugins: PluginEntry[];
  private reported: WeakSet<object> | undefined;
  private silentReasons: WeakSet<object> | undefined;
  private readonly diagnostics: RenderDiagnostics;
  private readonly dev = process.env.NODE_ENV !== 'production';
  private layoutError: unknown;
  /** Template mode: the random token of the app's start marker (content cannot forge it). */
  private appStart: string | undefined;
  private react: PipeableStream | undefined;
  private shellReady = false;
  private earlyErrors: [unknown, { componentStack?: string | null }][] = [];
  private body: string | undefined;
  private consumed = false;
  private firstByte = false;
  private done = false;
  private ended = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly cleanups: (() => void)[] = [];
  private resolveFinished: ((d: RenderDiagnostics) => void) | undefined;
  private finishedPromise: Promise<RenderDiagnostics> | undefined;
  private resolveReady: (() => void) | undefined;
  private readonly partial: PartialRun | undefined;

  constructor(element: ReactNode, options: RenderOptions, partial?: PartialRun) {
    this.element = element;
    let nonceError: KilnError | undefined;
    if (options.nonce !== undefined && !isValidNonce(options.nonce)) {
      // The one nonce rule of every Kiln package. The value never reaches the document, not
      // even the error page's.
      nonceError = invalidNonceError();
      options = { ...options, nonce: undefined };
    }
    this.options = options;
    this.partial = partial;
    const explicit = options.mode === 'stream' || options.mode === 'buffer';
    const isBot = explicit ? undefined : detectBot(userAgentOf(options.request), options.isBot);
    const mode = explicit ? (options.mode as 'stream' | 'buffer') : isBot ? 'buffer' : 'stream';
    this.ctx = new RequestContext(options, mode, isBot, this);
    this.plugins = [];
    if (options.plugins) {
      for (const plugin of options.plugins)
        this.plugins.push({ plugin, instance: undefined, ms: 0 });
    }
    this.diagnostics = {
      mode,
      shellMs: 0,
      allReadyMs: undefined,
      endMs: undefined,
      bytes: 0,
      batches: 0,
      plugins: {},
      inputs: this.ctx.inputs,
    };
    let layout: Layout = DOCUMENT_LAYOUT;
    if (options.template !== undefined) {
      try {
        const parts = splitTemplate(options.template, options.nonce);
        this.appStart = appStartToken();
        layout = {
          kind: 'template',
          ...parts,
          marker: new TextEncoder().encode(appStartHtml(this.appStart)),
        };
      } catch (error) {
        this.layoutError = error;
      }
    }
    if (nonceError) this.layoutError = nonceError;
    this.stream = new DocumentStream(layout, this);
  }

  // ---- the hosts of the context and the stream (Render implements both) ----

  get headersSent(): boolean {
    return this.firstByte;
  }

  waitFor(promise: Promise<unknown>): void {
    this.stream.waitFor(promise);
  }

  headHtml(): string {
    return this.collect('head');
  }

  flushHtml(): string {
    return this.collect('flush');
  }

  endHtml(): string | Promise<string> {
    for (const entry of this.plugins) {
      if (entry.instance?.end) return this.collectEnd();
    }
    return '';
  }

  streamComplete(error?: unknown): void {
    if (error !== undefined) this.report(error, { phase: 'stream' });
    this.finalize();
  }

  streamReport(error: unknown, phase: 'stream' | 'plugin'): void {
    this.report(error, { phase });
  }

  aborted(): boolean {
    return this.abortReason !== undefined;
  }

  async run(): Promise<RenderResult> {
    this.watch();
    try {
      if (this.layoutError !== undefined) throw this.layoutError;
      for (const entry of this.plugins) {
        const setup = entry.plugin.setup;
        entry.instance = await this.unlessAborted(
          this.timed(entry, 'setup', () => setup.call(entry.plugin, this.ctx)),
        );
      }
      this.partial?.setup(
        this.ctx,
        this.plugins.map((entry) => [entry.plugin.name, entry.instance]),
      );
      let app: ReactNode = this.element;
      if (this.appStart !== undefined) app = withServerAppStart(app, this.appStart);
      for (let i = this.plugins.length - 1; i >= 0; i--) {
        const entry = this.plugins[i] as PluginEntry;
        const wrap = entry.instance?.wrap;
        if (wrap) app = this.timed(entry, 'wrap', () => wrap.call(entry.instance, app));
      }
      app = createElement(renderContextReact().Provider, { value: this.ctx }, app);
      for (const entry of this.plugins) {
        const prepare = entry.instance?.prepare;
        if (prepare)
          await this.unlessAborted(
            this.timed(entry, 'prepare', () => prepare.call(entry.instance, app, this.ctx)),
          );
      }
      if (this.abortReason) throw this.abortReason;
      await this.startReact(app);
    } catch (error) {
      this.failShell(error);
    }
    return this.result();
  }

  /** `value`, or a rejection with the abort reason if the render is aborted first (a hanging prepare cannot outlive the timeout). */
  private unlessAborted<T>(value: T | Promise<T>): Promise<T> {
    if (!(value instanceof Promise)) return Promise.resolve(value);
    const signal = this.signal();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      value.then(
        (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  // ---- React ----

  private startReact(app: ReactNode): Promise<void> {
    const buffer = this.ctx.mode === 'buffer';
    const nonce = this.options.nonce;
    const ready = new Promise<void>((resolve) => {
      this.resolveReady = resolve;
    });
    const start = this.partial ? this.partial.start.bind(this.partial) : renderToPipeableStream;
    this.react = start(app, {
      bootstrapModules: this.options.bootstrapModules,
      bootstrapScripts: this.options.bootstrapScripts,
      bootstrapScriptContent: this.options.bootstrapScriptContent,
      identifierPrefix: this.options.identifierPrefix,
      nonce: nonce === undefined ? undefined : { script: nonce, style: nonce },
      progressiveChunkSize: buffer ? INLINE_ALL_BOUNDARIES : this.options.progressiveChunkSize,
      onShellReady: this.onShellReady.bind(this),
      onShellError: this.onShellError.bind(this),
      onAllReady: this.onAllReady.bind(this),
      onError: this.onReactError.bind(this),
    });
    if (this.abortReason) this.react.abort(this.abortReason);
    return ready;
  }

  private onShellReady(): void {
    this.shellReady = true;
    this.diagnostics.shellMs = performance.now() - this.startedAt;
    for (const [error, info] of this.earlyErrors) this.reportReactError(error, info);
    this.earlyErrors.length = 0;
    if (this.ctx.redirectInfo) this.stopForRedirect();
    if (this.ctx.mode === 'stream') this.resolveReady?.();
  }

  private onShellError(error: unknown): void {
    this.failShell(error);
    this.resolveReady?.();
  }

  private onAllReady(): void {
    this.diagnostics.allReadyMs = performance.now() - this.startedAt;
    if (this.ctx.mode === 'buffer') {
      if (this.ctx.redirectInfo) this.stopForRedirect();
      this.resolveReady?.();
    }
  }

  /** React's `onError`; what it returns is the digest React writes into the page for the boundary. */
  private onReactError(
    error: unknown,
    info: { componentStack?: string | null },
  ): string | undefined {
    if (this.shellReady) this.reportReactError(error, info);
    else this.earlyErrors.push([error, info]);
    return stoppedDigest(error);
  }

  private reportReactError(error: unknown, info: { componentStack?: string | null }): void {
    if (typeof error === 'object' && error !== null && this.silentReasons?.has(error)) return;
    const componentStack = info.componentStack ?? undefined;
    this.report(error, {
      phase: this.phaseOf(error, 'boundary'),
      ...(componentStack ? { componentStack } : {}),
    });
  }

  private phaseOf(error: unknown, fallback: RenderErrorInfo['phase']): RenderErrorInfo['phase'] {
    if (error instanceof KilnError) {
      if (error.code === 'KILN_TIMEOUT') return 'timeout';
      if (error.code === 'KILN_ABORTED' || error.code === 'KILN_CLIENT_DISCONNECTED')
        return 'abort';
      if (error.code === 'KILN_PLUGIN_ERROR') return 'plugin';
    }
    return fallback;
  }

  /** A shell error (or a failure before React started): the response becomes a 500 error document. */
  private failShell(error: unknown): void {
    if (this.body !== undefined) return;
    for (const [early, info] of this.earlyErrors) {
      if (early !== error) this.reportReactError(early, info);
    }
    this.earlyErrors = [];
    const pluginName =
      error instanceof KilnError && error.code === 'KILN_PLUGIN_ERROR'
        ? pluginOf(error)
        : undefined;
    this.report(error, {
      phase: this.phaseOf(error, 'shell'),
      ...(pluginName ? { plugin: pluginName } : {}),
    });
    this.ctx.status = 500;
    this.ctx.redirectInfo = undefined;
    this.ctx.responseHeaders.delete('location');
    this.body = this.buildErrorDocument(error);
    this.react?.abort(this.silent('the shell failed'));
    this.finalize();
  }

  private buildErrorDocument(error: unknown): string {
    const info = { status: 500, dev: this.dev, nonce: this.options.nonce };
    if (this.options.errorDocument) {
      try {
        return this.options.errorDocument(error, info);
      } catch (cause) {
        this.report(cause, { phase: 'shell' });
      }
    }
    return errorDocument(error, info);
  }

  private stopForRedirect(): void {
    if (this.body !== undefined) return;
    const redirect = this.ctx.redirectInfo;
    if (!redirect) return;
    this.body = redirectDocument(redirect.url, isHttpUrl(redirect.url, this.ctx.url));
    this.react?.abort(this.silent('the app redirected'));
    this.finalize();
  }

  private silent(why: string): KilnError {
    const reason = new KilnError('KILN_ABORTED', `the render was stopped because ${why}`);
    this.silentReasons ??= new WeakSet();
    this.silentReasons.add(reason);
    return reason;
  }

  // ---- abort, timeout, disconnect ----

  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  private watch(): void {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.abort(
          new KilnError(
            'KILN_TIMEOUT',
            this.shellReady
              ? `the render did not finish within ${timeoutMs} ms; pending Suspense boundaries fall back to client rendering. Raise timeoutMs or make the data arrive sooner`
              : `the render did not finish within ${timeoutMs} ms and the shell was not ready: what still waits outside any <Suspense> boundary makes the response the 500 error document, and pending boundaries fall back to client rendering. Wrap slow parts in <Suspense>, raise timeoutMs or make the data arrive sooner`,
          ),
        );
      }, timeoutMs);
    }
    const signal = this.options.signal;
    if (signal) {
      const onAbort = () =>
        this.abort(
          new KilnError(
            'KILN_ABORTED',
            'the render was aborted by the signal passed to renderToHtml',
            {
              cause: signal.reason,
            },
          ),
        );
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
    }
    const socket = (this.options.request as IncomingMessage | undefined)?.socket as
      | Socket
      | undefined;
    if (socket && typeof socket.once === 'function') {
      if (socket.destroyed) {
        this.disconnect();
      } else {
        const onClose = () => this.disconnect();
        socket.once('close', onClose);
        this.cleanups.push(() => socket.removeListener('close', onClose));
      }
    }
  }

  private abort(reason: KilnError): void {
    if (this.done || this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    const nobodyWaits = reason.code === 'KILN_CLIENT_DISCONNECTED';
    if (this.shellReady || nobodyWaits || !this.controller || !this.react) {
      this.react?.abort(reason);
      return;
    }
    // Plugins that saw the signal may settle what the shell waits for (Apollo resolves its
    // pending queries as loading results). React retries pinged work in a setImmediate
    // queued from those settlements; abort after it, so the shell can still complete.
    // Reported now, once, also when nothing is left for React to abort by then.
    this.report(reason, { phase: this.phaseOf(reason, 'abort') });
    setImmediate(() => setImmediate(() => this.react?.abort(reason)));
  }

  /** The client went away: abort the render and stop writing. */
  disconnect(): void {
    if (this.done) return;
    this.abort(
      new KilnError(
        'KILN_CLIENT_DISCONNECTED',
        'the client disconnected before the document was complete; the render was aborted',
      ),
    );
    if (this.consumed) this.stream.disconnect();
    else this.finalize();
  }

  // ---- the injection queue and plugins ----

  inject(html: string): void {
    if (this.done || this.stream.isClosed) {
      this.report(
        new KilnError(
          'KILN_INJECT_AFTER_END',
          'HTML was injected after the document ended and is dropped; inject before the render completes, or hold the end with ctx.waitFor(promise)',
        ),
        { phase: 'context' },
      );
      return;
    }
    this.stream.inject(html);
  }

  private collect(hook: 'head' | 'flush'): string {
    let html = '';
    if (this.done) return html;
    for (const entry of this.plugins) {
      const fn = entry.instance?.[hook];
      if (!fn) continue;
      try {
        const out = this.timed(entry, hook, () => fn.call(entry.instance));
        if (out) html += out;
      } catch (error) {
        this.report(error, { phase: 'plugin', plugin: entry.plugin.name });
      }
    }
    return addNonce(html, this.options.nonce);
  }

  private async collectEnd(): Promise<string> {
    let html = '';
    for (const entry of this.plugins) {
      const fn = entry.instance?.end;
      if (!fn || this.done) continue;
      try {
        const out = await this.timed(entry, 'end', () => fn.call(entry.instance));
        if (out) html += out;
      } catch (error) {
        this.report(error, { phase: 'plugin', plugin: entry.plugin.name });
      }
    }
    return addNonce(html, this.options.nonce);
  }

  /** Runs a plugin hook, adds its time to the plugin's figure, and names the plugin in errors. */
  private timed<T>(entry: PluginEntry, hook: Hook, fn: () => T): T {
    const start = performance.now();
    let out: T;
    try {
      out = fn();
    } catch (error) {
      entry.ms += performance.now() - start;
      throw pluginError(entry.plugin.name, hook, error);
    }
    if (out instanceof Promise) {
      return out.then(
        (value) => {
          entry.ms += performance.now() - start;
          return value;
        },
        (error: unknown) => {
          entry.ms += performance.now() - start;
          throw pluginError(entry.plugin.name, hook, error);
        },
      ) as T;
    }
    entry.ms += performance.now() - start;
    return out;
  }

  // ---- errors ----

  report(error: unknown, info: RenderErrorInfo): void {
    if (typeof error === 'object' && error !== null) {
      this.reported ??= new WeakSet();
      if (this.reported.has(error)) return;
      this.reported.add(error);
    }
    const plugin = info.plugin ?? (error instanceof KilnError ? pluginOf(error) : undefined);
    const full: RenderErrorInfo = plugin && !info.plugin ? { ...info, plugin } : info;
    try {
      if (this.options.onError) this.options.onError(error, full);
      else if (full.level === 'warning') console.warn(error);
      else console.error(error);
    } catch (callbackError) {
      console.error('[kiln/core] onError threw', callbackError);
    }
  }

  // ---- the end ----

  /** Releases everything the render holds (once): timer, listeners, plugin instances. */
  private finalize(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups.length = 0;
    if (this.plugins.some((entry) => entry.instance?.dispose)) {
      void this.disposePlugins().then(() => this.settleAfterReact());
    } else {
      this.settleAfterReact();
    }
  }

  /**
   * After an abort, React reports the tasks it cut short (and calls `onAllReady`) on a later
   * macrotask (`setImmediate`). A disconnect ends the document before that; settling behind
   * React keeps the promise of `finished`: every error reported, the diagnostics complete.
   */
  private settleAfterReact(): void {
    if (this.react !== undefined && this.abortReason !== undefined) {
      setImmediate(() => this.settle());
    } else {
      this.settle();
    }
  }

  private async disposePlugins(): Promise<void> {
    for (const entry of this.plugins) {
      const dispose = entry.instance?.dispose;
      if (!dispose) continue;
      try {
        await this.timed(entry, 'dispose', () => dispose.call(entry.instance));
      } catch (error) {
        this.report(error, { phase: 'plugin', plugin: entry.plugin.name });
      }
    }
  }

  private settle(): void {
    this.diagnostics.endMs = performance.now() - this.startedAt;
    this.syncDiagnostics();
    this.ended = true;
    this.resolveFinished?.(this.diagnostics);
  }

  /** Resolves with the diagnostics when the render ended (created on first use). */
  finished(): Promise<RenderDiagnostics> {
    if (this.finishedPromise === undefined) {
      this.finishedPromise = this.ended
        ? Promise.resolve(this.diagnostics)
        : new Promise((resolve) => {
            this.resolveFinished = resolve;
          });
    }
    return this.finishedPromise;
  }

  private syncDiagnostics(): void {
    this.diagnostics.bytes = this.stream.bytes;
    this.diagnostics.batches = this.stream.batches;
    for (const entry of this.plugins) {
      let figures: Record<string, number | string | boolean> = {};
      const fn = entry.instance?.diagnostics;
      if (fn) {
        try {
          figures = { ...fn.call(entry.instance) };
        } catch (error) {
          this.report(pluginError(entry.plugin.name, 'diagnostics', error), {
            phase: 'plugin',
            plugin: entry.plugin.name,
          });
        }
      }
      this.diagnostics.plugins[entry.plugin.name] = { ms: entry.ms, ...figures };
    }
  }

  // ---- the result and its sinks ----

  /** Called by a sink when it takes the document: the first byte is about to be written. */
  consume(sink: Sink): void {
    if (this.consumed) {
      throw new KilnError(
        'KILN_RESULT_CONSUMED',
        'this RenderResult was already sent; call exactly one of pipe(), toResponse() or text(), once',
      );
    }
    this.consumed = true;
    if (!this.done && this.ctx.redirectInfo) this.stopForRedirect();
    this.firstByte = true;
    if (this.body !== undefined) {
      sink.write(this.body);
      sink.end();
      this.diagnostics.bytes = Buffer.byteLength(this.body);
      return;
    }
    if (this.done || !this.react) {
      // The client disconnected before anything was sent.
      sink.end();
      return;
    }
    this.stream.attach(sink);
    const prelude = this.partial?.prelude?.();
    if (prelude !== undefined) this.stream.continueAfter(prelude);
    this.react.pipe(this.stream as unknown as NodeJS.WritableStream);
  }

  private result(): RenderResult {
    return new Result(this);
  }

  // ---- what the result and the sinks read ----

  get status(): number {
    return this.ctx.status;
  }

  get responseHeaders(): Headers {
    return this.ctx.responseHeaders;
  }

  get redirect(): RedirectInfo | undefined {
    return this.body !== undefined || !this.firstByte ? this.ctx.redirectInfo : undefined;
  }

  currentDiagnostics(): RenderDiagnostics {
    if (!this.done) {
      this.diagnostics.bytes = this.stream.bytes;
      this.diagnostics.batches = this.stream.batches;
    }
    return this.diagnostics;
  }

  drain(): void {
    this.stream.drain();
  }
}

/** The `RenderResult` of one render: a thin view of the render and its sinks. */
class Result implements RenderResult {
  private readonly render: Render;

  constructor(render: Render) {
    this.render = render;
  }

  get status(): number {
    return this.render.status;
  }

  get headers(): Headers {
    return this.render.responseHeaders;
  }

  get redirect(): RedirectInfo | undefined {
    return this.render.redirect;
  }

  get diagnostics(): RenderDiagnostics {
    return this.render.currentDiagnostics();
  }

  get finished(): Promise<RenderDiagnostics> {
    return this.render.finished();
  }

  pipe<W extends NodeJS.WritableStream>(writable: W): W {
    return pipeTo(this.render, writable);
  }

  toResponse(init?: ResponseInit): Response {
    return toWebResponse(this.render, init);
  }

  text(): Promise<string> {
    return toText(this.render);
  }
}

function pluginError(name: string, hook: Hook, error: unknown): KilnError {
  if (error instanceof KilnError && error.code === 'KILN_PLUGIN_ERROR') return error;
  const wrapped = new KilnError(
    'KILN_PLUGIN_ERROR',
    `plugin "${name}" threw in ${hook}(): ${messageOf(error)}; the error is attached as its cause, with its stack: look there for where it was thrown (the plugin, its options, or a package it loads)`,
    { cause: error },
  );
  (wrapped as KilnError & { plugin?: string }).plugin = name;
  return wrapped;
}

function pluginOf(error: KilnError): string | undefined {
  return (error as KilnError & { plugin?: string }).plugin;
}

export type { Chunk };
