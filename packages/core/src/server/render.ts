import { isValidNonce } from '@kiln/serialize';
import { createElement, type ReactNode } from 'react';
import { type PipeableStream, renderToPipeableStream } from 'react-dom/server';
import { appStartHtml, appStartToken, withServerAppStart } from '../shared/app-start';
import { invalidNonceError, KilnError, stoppedDigest } from '../shared/errors';
import { renderContextReact } from '../shared/render-context';
import type {
  PluginInstance,
  RedirectInfo,
  RenderDiagnostics,
  RenderErrorInfo,
  RenderOptions,
  RenderResult,
} from '../shared/types';
import { type AbortHost, phaseOf, RenderAbort } from './abort';
import { isBotRequest } from './bots';
import {
  type Chunk,
  DocumentStream,
  type Layout,
  type Sink,
  type StreamHost,
} from './document-stream';
import { errorDocument, redirectDocument } from './documents';
import { Lifecycle } from './lifecycle';
import { PluginRunner, pluginOf } from './plugin-runner';
import { type ContextHost, isHttpUrl, RequestContext } from './request-context';
import { pipeTo, type SinkHost, toText, toWebResponse } from './sinks';
import { splitTemplate } from './template';

const DOCUMENT_LAYOUT: Layout = { kind: 'document' };

/** Buffer mode passes this as `progressiveChunkSize`, so React inlines every finished boundary. */
const INLINE_ALL_BOUNDARIES = Number.MAX_SAFE_INTEGER;

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
  /**
   * On resume: the stored prelude. With it, the render resolves at once with the shell's
   * status and headers (`respond`), and the prelude goes out as soon as a sink takes the
   * result, before the plugins set up and React resumes (see `run`).
   */
  prelude?(): readonly Chunk[];
  /** On resume: sets the stored shell's status and headers, before any plugin runs. */
  respond?(ctx: RequestContext): void;
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

/**
 * One render, as a story: the plugins set up, wrap and prepare the app; React renders it;
 * when the shell is ready (streaming) or everything is (buffering) the result is handed
 * over; a sink takes it and the document stream writes React's output with the plugins'
 * HTML between React's batches; the end releases what the render holds and settles
 * `finished`. A shell error or a redirect turns the response into a fixed document instead.
 * The plugin hooks live in `plugin-runner.ts`, the timeout and the aborts in `abort.ts`, the
 * states in `lifecycle.ts`.
 */
class Render implements ContextHost, StreamHost, SinkHost, AbortHost {
  private readonly startedAt = performance.now();
  private readonly options: RenderOptions;
  private readonly element: ReactNode;
  private readonly life = new Lifecycle();
  private readonly stopper: RenderAbort;
  private readonly ctx: RequestContext;
  private readonly stream: DocumentStream;
  private readonly plugins: PluginRunner;
  private reported: WeakSet<object> | undefined;
  private silentReasons: WeakSet<object> | undefined;
  private readonly diagnostics: RenderDiagnostics;
  private readonly dev = process.env.NODE_ENV !== 'production';
  private layoutError: unknown;
  /** Template mode: the random token of the app's start marker (content cannot forge it). */
  private appStart: string | undefined;
  private react: PipeableStream | undefined;
  private earlyErrors: [unknown, { componentStack?: string | null }][] = [];
  private resolveFinished: ((d: RenderDiagnostics) => void) | undefined;
  private finishedPromise: Promise<RenderDiagnostics> | undefined;
  private resolveReady: (() => void) | undefined;
  private readonly partial: PartialRun | undefined;
  /** A resume whose stored prelude is the shell: it goes out before the plugins and React start. */
  private readonly preludeFirst: boolean;
  private startedWork = false;
  private deferredStart: ReturnType<typeof setImmediate> | undefined;

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
    this.stopper = new RenderAbort(this);
    const explicit = options.mode === 'stream' || options.mode === 'buffer';
    const isBot = explicit ? undefined : isBotRequest(options);
    const mode = explicit ? (options.mode as 'stream' | 'buffer') : isBot ? 'buffer' : 'stream';
    this.ctx = new RequestContext(options, mode, isBot, this);
    this.plugins = new PluginRunner(options.plugins, (error, info) => this.report(error, info));
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
    this.preludeFirst = partial?.prelude !== undefined && this.layoutError === undefined;
  }

  // ---- 1. the plugins prepare the app, React starts ----

  run(): Promise<RenderResult> {
    this.stopper.watch(this.options);
    // Returned as it is: a streamed shell is handed over in as few microtasks as possible, so
    // it is piped before React renders boundaries whose data is at hand.
    return this.preludeFirst ? this.setupBeforePrelude() : this.prepareAndStart();
  }

  private readonly guard = <T>(value: T | Promise<T>): Promise<T> =>
    this.stopper.unlessAborted(value);

  /**
   * Partial pre-rendering: the stored prelude is a shell that is ready now. The plugins set up
   * (they may still set this response's headers), then the result resolves with the shell's
   * status and headers; the prelude goes out when a sink takes the result, and only then is
   * the shell's state restored into the plugins and does React resume (or on the next
   * macrotask, if no sink takes the result before), so the first byte does not wait for them.
   */
  private async setupBeforePrelude(): Promise<RenderResult> {
    this.partial?.respond?.(this.ctx);
    try {
      await this.plugins.setup(this.ctx, this.guard);
    } catch (error) {
      this.failShell(error);
      return new Result(this);
    }
    this.life.shellIsReady();
    this.deferredStart = setImmediate(this.startWork);
    return new Result(this);
  }

  /** Starts the deferred work of a prelude-first resume (once). */
  private readonly startWork = (): void => {
    if (this.deferredStart !== undefined) clearImmediate(this.deferredStart);
    this.deferredStart = undefined;
    if (this.startedWork || this.life.released) return;
    this.startedWork = true;
    void this.prepareAndStart();
  };

  /**
   * The plugins set up (unless a prelude-first resume did it already), wrap and prepare the
   * app, then React starts; resolves the result when the response can start. A failure fails
   * the shell.
   */
  private async prepareAndStart(): Promise<RenderResult> {
    const guard = this.guard;
    try {
      if (this.layoutError !== undefined) throw this.layoutError;
      if (!this.preludeFirst) await this.plugins.setup(this.ctx, guard);
      this.partial?.setup(this.ctx, this.plugins.instances());
      let app: ReactNode = this.element;
      if (this.appStart !== undefined) app = withServerAppStart(app, this.appStart);
      app = this.plugins.wrap(app);
      app = createElement(renderContextReact().Provider, { value: this.ctx }, app);
      await this.plugins.prepare(app, this.ctx, guard);
      if (this.stopper.reason) throw this.stopper.reason;
      await this.startReact(app);
    } catch (error) {
      this.failShell(error);
    }
    return new Result(this);
  }

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
    if (this.stopper.reason) this.react.abort(this.stopper.reason);
    // A prelude-first resume whose prelude is already out: React's output follows it now.
    else if (this.preludeFirst && this.life.sent && this.life.body === undefined)
      this.react.pipe(this.stream as unknown as NodeJS.WritableStream);
    return ready;
  }

  // ---- 2. React renders: the result is ready when the shell is (stream) or all is (buffer) ----

  private onShellReady(): void {
    this.life.shellIsReady();
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
    if (this.life.shellReady) this.reportReactError(error, info);
    else this.earlyErrors.push([error, info]);
    return stoppedDigest(error);
  }

  private reportReactError(error: unknown, info: { componentStack?: string | null }): void {
    if (typeof error === 'object' && error !== null && this.silentReasons?.has(error)) return;
    const componentStack = info.componentStack ?? undefined;
    this.report(error, {
      phase: phaseOf(error, 'boundary'),
      ...(componentStack ? { componentStack } : {}),
    });
  }

  // ---- 2b. or the response becomes a fixed document: the error document or a redirect ----

  /**
   * A shell error (or a failure before React started): the response becomes a 500 error
   * document. In a prelude-first resume whose prelude went out, the status is sent: the
   * document ends after the prelude instead, and the browser renders the holes, still showing
   * their fallbacks, as it does for any boundary the server did not finish.
   */
  private failShell(error: unknown): void {
    if (this.life.body !== undefined) return;
    for (const [early, info] of this.earlyErrors) {
      if (early !== error) this.reportReactError(early, info);
    }
    this.earlyErrors = [];
    const pluginName =
      error instanceof KilnError && error.code === 'KILN_PLUGIN_ERROR'
        ? pluginOf(error)
        : undefined;
    this.report(error, {
      phase: phaseOf(error, 'shell'),
      ...(pluginName ? { plugin: pluginName } : {}),
    });
    if (this.preludeFirst && this.life.sent) {
      this.react?.abort(this.silent('the resume failed after its prelude was sent'));
      this.stream.endAfterPrelude();
      return;
    }
    this.ctx.status = 500;
    this.ctx.redirectInfo = undefined;
    this.ctx.responseHeaders.delete('location');
    this.life.fix(this.buildErrorDocument(error));
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
    if (this.life.body !== undefined) return;
    const redirect = this.ctx.redirectInfo;
    if (!redirect) return;
    this.life.fix(redirectDocument(redirect.url, isHttpUrl(redirect.url, this.ctx.url)));
    this.react?.abort(this.silent('the app redirected'));
    this.finalize();
  }

  /** An abort reason for stopping React on purpose: what React reports with it is not an error. */
  private silent(why: string): KilnError {
    const reason = new KilnError('KILN_ABORTED', `the render was stopped because ${why}`);
    this.silentReasons ??= new WeakSet();
    this.silentReasons.add(reason);
    return reason;
  }

  // ---- 3. a sink takes the result; the document stream writes it ----

  /** Called by a sink when it takes the document: the first byte is about to be written. */
  consume(sink: Sink): void {
    if (this.life.sent) {
      throw new KilnError(
        'KILN_RESULT_CONSUMED',
        'this RenderResult was already sent; call exactly one of pipe(), toResponse() or text(), once',
      );
    }
    this.life.sent = true;
    if (!this.life.released && this.ctx.redirectInfo) this.stopForRedirect();
    const body = this.life.body;
    if (body !== undefined) {
      sink.write(body);
      sink.end();
      this.diagnostics.bytes = Buffer.byteLength(body);
      return;
    }
    if (this.life.released || (!this.react && !this.preludeFirst)) {
      // The client disconnected before anything was sent.
      sink.end();
      return;
    }
    this.stream.attach(sink);
    const prelude = this.partial?.prelude?.();
    if (prelude !== undefined) this.stream.continueAfter(prelude);
    if (this.react) this.react.pipe(this.stream as unknown as NodeJS.WritableStream);
    // A prelude-first resume: its work starts now that the prelude is out (React pipes
    // itself in when it starts).
    else this.startWork();
  }

  drain(): void {
    this.stream.drain();
  }

  get headersSent(): boolean {
    return this.life.sent;
  }

  waitFor(promise: Promise<unknown>): void {
    this.stream.waitFor(promise);
  }

  inject(html: string): void {
    if (this.life.released || this.stream.isClosed) {
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

  headHtml(): string {
    if (this.life.released) return '';
    return this.plugins.collect('head', this.options.nonce);
  }

  flushHtml(): string {
    if (this.life.released) return '';
    return this.plugins.collect('flush', this.options.nonce);
  }

  endHtml(): string | Promise<string> {
    if (!this.plugins.hasEnd) return '';
    return this.plugins.collectEnd(this.options.nonce, () => this.life.released);
  }

  streamComplete(error?: unknown): void {
    if (error !== undefined) this.report(error, { phase: 'stream' });
    this.finalize();
  }

  streamReport(error: unknown, phase: 'stream' | 'plugin'): void {
    this.report(error, { phase });
  }

  // ---- aborts (the timeout, the caller's signal, the client going away: see abort.ts) ----

  signal(): AbortSignal {
    return this.stopper.signal();
  }

  aborted(): boolean {
    return this.stopper.reason !== undefined;
  }

  isReleased(): boolean {
    return this.life.released;
  }

  isShellReady(): boolean {
    return this.life.shellReady;
  }

  reactStream(): PipeableStream | undefined {
    return this.react;
  }

  /** The client went away: abort the render and stop writing. */
  disconnect(): void {
    if (this.life.released) return;
    this.stopper.abort(
      new KilnError(
        'KILN_CLIENT_DISCONNECTED',
        'the client disconnected before the document was complete; the render was aborted',
      ),
    );
    if (this.life.sent) this.stream.disconnect();
    else this.finalize();
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

  // ---- 4. the end: release, then settle `finished` ----

  /** Releases everything the render holds (once): timer, listeners, plugin instances. */
  private finalize(): void {
    if (!this.life.release()) return;
    if (this.deferredStart !== undefined) clearImmediate(this.deferredStart);
    this.deferredStart = undefined;
    this.stopper.release();
    if (this.plugins.hasDispose) {
      void this.plugins.dispose().then(() => this.settleAfterReact());
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
    if (this.react !== undefined && this.stopper.reason !== undefined) {
      setImmediate(() => this.settle());
    } else {
      this.settle();
    }
  }

  private settle(): void {
    this.diagnostics.endMs = performance.now() - this.startedAt;
    this.diagnostics.bytes = this.stream.bytes;
    this.diagnostics.batches = this.stream.batches;
    this.plugins.writeDiagnostics(this.diagnostics.plugins);
    this.life.settle();
    this.resolveFinished?.(this.diagnostics);
  }

  /** Resolves with the diagnostics when the render ended (created on first use). */
  finished(): Promise<RenderDiagnostics> {
    if (this.finishedPromise === undefined) {
      this.finishedPromise =
        this.life.end === 'settled'
          ? Promise.resolve(this.diagnostics)
          : new Promise((resolve) => {
              this.resolveFinished = resolve;
            });
    }
    return this.finishedPromise;
  }

  // ---- what the result and the sinks read ----

  get status(): number {
    return this.ctx.status;
  }

  get responseHeaders(): Headers {
    return this.ctx.responseHeaders;
  }

  get redirect(): RedirectInfo | undefined {
    return this.life.body !== undefined || !this.life.sent ? this.ctx.redirectInfo : undefined;
  }

  currentDiagnostics(): RenderDiagnostics {
    if (!this.life.released) {
      this.diagnostics.bytes = this.stream.bytes;
      this.diagnostics.batches = this.stream.batches;
    }
    return this.diagnostics;
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

export type { Chunk };
