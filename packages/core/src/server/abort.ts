import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { KilnError } from '../shared/errors';
import type { RenderErrorInfo, RenderOptions } from '../shared/types';

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

/** What the abort handling needs from the render it stops. */
export interface AbortHost {
  /** True once the render released its resources: an abort then changes nothing. */
  isReleased(): boolean;
  /** True once React's shell is ready. */
  isShellReady(): boolean;
  /** React's stream, once React started. */
  reactStream(): { abort(reason?: unknown): void } | undefined;
  report(error: unknown, info: RenderErrorInfo): void;
  /** The client's socket closed. */
  disconnect(): void;
}

/**
 * The phase an error is reported in: the codes of a timeout, an abort and a plugin error
 * name their own phase; any other error is reported in `fallback`.
 */
export function phaseOf(
  error: unknown,
  fallback: RenderErrorInfo['phase'],
): RenderErrorInfo['phase'] {
  if (error instanceof KilnError) {
    if (error.code === 'KILN_TIMEOUT') return 'timeout';
    if (error.code === 'KILN_ABORTED' || error.code === 'KILN_CLIENT_DISCONNECTED') return 'abort';
    if (error.code === 'KILN_PLUGIN_ERROR') return 'plugin';
  }
  return fallback;
}

/**
 * The three ways a render is stopped before it ends (the timeout, the caller's signal, the
 * client's socket closing), the signal plugins see, and when React is told.
 */
export class RenderAbort {
  /** Why the render was aborted, once it was. */
  reason: KilnError | undefined;
  private readonly host: AbortHost;
  /** Created on first use of the signal (an AbortController costs more than the rest of the setup). */
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(host: AbortHost) {
    this.host = host;
  }

  /** The render's abort signal, created on first use (already aborted if the render was). */
  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Starts the timeout and listens to the caller's signal and the client's socket. */
  watch(options: RenderOptions): void {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.abort(
          new KilnError(
            'KILN_TIMEOUT',
            this.host.isShellReady()
              ? `the render did not finish within ${timeoutMs} ms; pending Suspense boundaries fall back to client rendering. Raise timeoutMs or make the data arrive sooner`
              : `the render did not finish within ${timeoutMs} ms and the shell was not ready: what still waits outside any <Suspense> boundary makes the response the 500 error document, and pending boundaries fall back to client rendering. Wrap slow parts in <Suspense>, raise timeoutMs or make the data arrive sooner`,
          ),
        );
      }, timeoutMs);
    }
    const signal = options.signal;
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
    const socket = (options.request as IncomingMessage | undefined)?.socket as Socket | undefined;
    if (socket && typeof socket.once === 'function') {
      if (socket.destroyed) {
        this.host.disconnect();
      } else {
        const onClose = () => this.host.disconnect();
        socket.once('close', onClose);
        this.cleanups.push(() => socket.removeListener('close', onClose));
      }
    }
  }

  /** Aborts the render (once, and not after it was released): the signal, then React. */
  abort(reason: KilnError): void {
    if (this.host.isReleased() || this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
    const nobodyWaits = reason.code === 'KILN_CLIENT_DISCONNECTED';
    const react = this.host.reactStream();
    if (this.host.isShellReady() || nobodyWaits || !this.controller || !react) {
      react?.abort(reason);
      return;
    }
    // Plugins that saw the signal may settle what the shell waits for (Apollo resolves its
    // pending queries as loading results). React retries pinged work in a setImmediate
    // queued from those settlements; abort after it, so the shell can still complete.
    // Reported now, once, also when nothing is left for React to abort by then.
    this.host.report(reason, { phase: phaseOf(reason, 'abort') });
    setImmediate(() => setImmediate(() => this.host.reactStream()?.abort(reason)));
  }

  /** `value`, or a rejection with the abort reason if the render is aborted first (a hanging prepare cannot outlive the timeout). */
  unlessAborted<T>(value: T | Promise<T>): Promise<T> {
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

  /** Stops the timer and the listeners (once the render is over). */
  release(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups.length = 0;
  }
}
