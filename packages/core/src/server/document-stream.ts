/*
 * Design note: why the writes happen in this order.
 *
 * React's Node renderer writes to its destination in *batches*. Each batch is one synchronous
 * call of React's `flushCompletedQueues`: it calls `write()` one or more times (React fills
 * 4 KB views, and hands longer strings over directly), then always ends with `flush()`. A
 * batch can contain half of an element split across two `write()` calls, so nothing may go
 * between the writes of one batch. This class therefore holds the chunks of a batch (by
 * reference, no copy) until React's `flush()`, and only then emits them, preceded by
 * whatever was queued. Holding costs no latency: the whole batch is written within one tick.
 *
 * 1. Nothing goes before React's first write. The first batch holds `<!DOCTYPE html>`,
 *    `<html>` and `<head>`; plugin `head()` HTML is spliced into it just before `</head>`
 *    (in template mode, the template's head and React's hoisted tags are assembled around
 *    it). Queued injections follow the first batch, never precede it.
 * 2. Before every later batch, the queue (ctx.inject, setState) and the plugins' `flush()`
 *    output are written first. Everything a batch shows was rendered before React began
 *    writing it, so styles and data produced by that render are already queued: they reach
 *    the browser before the markup that needs them.
 * 3. Between batches, when something is injected and no batch follows, the queue is written
 *    on the next macrotask (`setImmediate`), so data does not wait for unrelated React work.
 *    This is still between batches: React never yields in the middle of one.
 * 4. The end of the document is held. A batch that ends with `</body></html>` is emitted
 *    without those 14 bytes; when React calls `end()`, the pending `waitFor` promises are
 *    awaited (until they settle or the render is aborted), then the queue, the plugins'
 *    `flush()` and `end()` output are written, and only then `</body></html>` (or the rest
 *    of the template) and the end of the stream.
 */
import { KilnError } from '../shared/errors';

/** A piece of output: React hands over `Uint8Array` views and, for long text, strings. */
export type Chunk = string | Uint8Array;

/** Where the document goes: a Node writable, a Web stream controller, or a string collector. */
export interface Sink {
  /** Writes a chunk; `false` asks the producer to wait for `DocumentStream.drain()`. */
  write(chunk: Chunk): boolean;
  /** Called after each batch, e.g. to flush a compression middleware. */
  flush?(): void;
  /** Ends the output. */
  end(): void;
  /** Fails the output. */
  error(error: unknown): void;
}

/** How the document around React's output is laid out. */
export type Layout =
  | { readonly kind: 'document' }
  | {
      readonly kind: 'template';
      /** The template up to where React's hoisted head tags and plugin head HTML go. */
      readonly head: string;
      /** The template from there to the app's container content. */
      readonly body: string;
      /** The rest of the template after the app. */
      readonly tail: string;
      /** The bytes React writes for the marker that starts the app (removed from the output). */
      readonly marker: Uint8Array;
    };

/** What the stream needs from the render that owns it. */
export interface StreamHost {
  /** Plugin `head()` HTML (nonce applied). */
  headHtml(): string;
  /** Plugin `flush()` HTML (nonce applied). */
  flushHtml(): string;
  /** Plugin `end()` HTML (nonce applied); a string when no plugin has an async `end()`. */
  endHtml(): string | Promise<string>;
  /** Called when the document ended or failed; `error` is set when it failed. */
  streamComplete(error?: unknown): void;
  /** Reports a problem without failing the document. */
  streamReport(error: unknown, phase: 'stream' | 'plugin'): void;
  /** The render's abort signal. */
  signal(): AbortSignal;
  /** Whether the render was aborted (without creating a signal). */
  aborted(): boolean;
}

const encoder = new TextEncoder();
const END_OF_DOCUMENT_TEXT = '</body></html>';
const END_OF_DOCUMENT = encoder.encode(END_OF_DOCUMENT_TEXT);
const HEAD_CLOSE = '</head>';

type Listener = (...args: unknown[]) => void;

/**
 * The per-request injection queue and the destination React writes into. React sees a
 * minimal Node writable (`write`, `flush`, `end`, `destroy`, `on`); the document goes to one
 * `Sink` attached later.
 */
export class DocumentStream {
  /** Bytes handed to the sink. */
  bytes = 0;
  /** Non-empty React batches seen. */
  batches = 0;

  private readonly layout: Layout;
  private readonly host: StreamHost;
  private sink: Sink | undefined;
  private batch: Chunk[] = [];
  private queue: string[] = [];
  private pending: Set<Promise<unknown>> | undefined;
  private heldTail: Uint8Array | undefined;
  private started = false;
  private ending = false;
  private closed = false;
  private hasCapacity = true;
  private idleScheduled: ReturnType<typeof setImmediate> | undefined;
  private drainListener: Listener | undefined;
  private closeListener: Listener | undefined;

  constructor(layout: Layout, host: StreamHost) {
    this.layout = layout;
    this.host = host;
  }

  /** True once the first batch (the shell) went to the sink. */
  get hasStarted(): boolean {
    return this.started;
  }

  /** True once the document ended or the sink went away. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Attaches the sink. React may start writing right after this. */
  attach(sink: Sink): void {
    this.sink = sink;
  }

  /**
   * Partial pre-rendering: `prelude` (a stored prelude, the document up to before
   * `</body></html>`) is the shell; React's batches that follow (a resume) are later batches.
   */
  continueAfter(prelude: readonly Chunk[]): void {
    this.started = true;
    for (const chunk of prelude) this.send(chunk);
    this.emitQueue();
    // The prelude is the shell: it leaves now, not with whatever the resume writes next.
    this.sink?.flush?.();
  }

  /**
   * Partial pre-rendering: ends the document right after a stored prelude when the resume
   * failed before React wrote anything: the queue, the plugins' `flush()` and `end()` output,
   * then `</body></html>`.
   */
  endAfterPrelude(): void {
    if (this.closed || this.ending) return;
    if (this.layout.kind === 'document') this.heldTail ??= END_OF_DOCUMENT;
    this.end();
  }

  /** Queues HTML (already carrying the nonce) for the next point between React batches. */
  inject(html: string): boolean {
    if (this.closed || html.length === 0) return !this.closed;
    this.queue.push(html);
    if (this.started && this.idleScheduled === undefined) {
      this.idleScheduled = setImmediate(this.idleFlush);
    }
    return true;
  }

  /** Holds back the end of the document until `promise` settles. */
  waitFor(promise: Promise<unknown>): void {
    if (this.closed) return;
    const tracked = promise.then(
      () => undefined,
      (error: unknown) => this.host.streamReport(error, 'stream'),
    );
    if (this.pending === undefined) this.pending = new Set();
    const pending = this.pending;
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
  }

  // ---- the destination React writes into ----

  write(chunk: Chunk): boolean {
    if (this.closed) return false;
    this.batch.push(chunk);
    return this.hasCapacity;
  }

  flush(): void {
    if (this.closed || this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.batches++;
    if (!this.started) {
      this.started = true;
      this.emitShell(batch);
      this.emitQueue();
    } else {
      this.emitQueue(this.host.flushHtml());
      this.emitBatch(batch);
    }
    this.sink?.flush?.();
  }

  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    // React always flushes before ending; a trailing batch would be a bug, but keep it.
    if (this.batch.length > 0) this.flush();
    this.finish();
  }

  destroy(error?: unknown): void {
    if (this.closed) return;
    this.close();
    this.sink?.error(error ?? new Error('The render failed.'));
    this.host.streamComplete(error ?? new Error('The render failed.'));
  }

  on(event: string, listener: Listener): this {
    // React registers one listener each for `drain`, `close` and `error`; errors are never emitted.
    if (event === 'drain') this.drainListener = listener;
    else if (event === 'close') this.closeListener = listener;
    return this;
  }

  /** The sink can take more data again (Node `drain`, Web `pull`). */
  drain(): void {
    if (this.hasCapacity || this.closed) return;
    this.hasCapacity = true;
    this.drainListener?.();
  }

  /**
   * The client went away: stop writing and tell React its destination closed. The caller
   * aborts the render (with its own reason) before calling this.
   */
  disconnect(): void {
    if (this.closed) return;
    this.close();
    this.closeListener?.();
    this.host.streamComplete();
  }

  // ---- internals ----

  private readonly idleFlush = (): void => {
    this.idleScheduled = undefined;
    if (!this.closed && !this.ending && this.started) this.emitQueue();
  };

  private close(): void {
    this.closed = true;
    this.queue = [];
    this.batch = [];
    if (this.idleScheduled !== undefined) {
      clearImmediate(this.idleScheduled);
      this.idleScheduled = undefined;
    }
  }

  /** Ends the document: after pending promises, the queue, `flush()` and `end()` output, then the tail. */
  private finish(): void {
    if (this.closed) return;
    try {
      if (this.pending !== undefined && this.pending.size > 0 && !this.host.aborted()) {
        void this.waitThenFinish(this.pending);
        return;
      }
      this.emitQueue(this.host.flushHtml());
      const endHtml = this.host.endHtml();
      if (typeof endHtml === 'string') this.completeDocument(endHtml);
      else
        endHtml.then(
          (html) => this.completeDocument(html),
          (error: unknown) => this.fail(error),
        );
    } catch (error) {
      this.fail(error);
    }
  }

  private async waitThenFinish(pending: Set<Promise<unknown>>): Promise<void> {
    while (pending.size > 0 && !this.host.aborted()) {
      await Promise.race([Promise.all(pending), abortPromise(this.host.signal())]);
    }
    this.finish();
  }

  private completeDocument(endHtml: string): void {
    if (this.closed) return;
    this.emitQueue(endHtml);
    if (this.layout.kind === 'template') this.send(this.layout.tail);
    else if (this.heldTail) this.send(this.heldTail);
    this.heldTail = undefined;
    this.close();
    this.sink?.end();
    this.host.streamComplete();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.close();
    this.sink?.error(error);
    this.host.streamComplete(error);
  }

  /** Writes the queue (and `extra`, e.g. plugin flush output) as one chunk. */
  private emitQueue(extra = ''): void {
    if (this.idleScheduled !== undefined) {
      clearImmediate(this.idleScheduled);
      this.idleScheduled = undefined;
    }
    if (this.queue.length === 0 && extra.length === 0) return;
    let html = this.queue.length === 1 ? (this.queue[0] as string) : this.queue.join('');
    this.queue = [];
    html += extra;
    this.send(html);
  }

  private emitBatch(batch: Chunk[]): void {
    if (this.heldTail) {
      // React wrote after a batch that looked like the end of the document: release it.
      this.send(this.heldTail);
      this.heldTail = undefined;
    }
    if (this.layout.kind === 'document') this.holdEndOfDocument(batch);
    for (const chunk of batch) this.send(chunk);
  }

  private emitShell(batch: Chunk[]): void {
    const headHtml = this.host.headHtml();
    if (this.layout.kind === 'template') {
      const { head, body, marker } = this.layout;
      const found = locate(batch, (bytes) => bytes.indexOf(marker));
      this.send(head);
      if (found.at === -1) {
        this.send(headHtml + body);
        this.emitBatch(batch);
        return;
      }
      // React's hoisted head tags, written before the app's marker, move into the head.
      if (found.at > 0) this.send(found.bytes.subarray(0, found.at));
      this.send(headHtml + body);
      this.emitBatch([found.bytes.subarray(found.at + marker.length), ...found.rest]);
      return;
    }
    if (headHtml.length === 0 && startsWithDoctype(batch[0])) {
      // Nothing to put in the head: React's batch goes out as it is.
      this.emitBatch(batch);
      return;
    }
    const found = locate(batch, findHeadClose);
    if (found.at === -1) {
      this.host.streamReport(
        new KilnError(
          'KILN_NOT_A_DOCUMENT',
          'the element did not render a document (<html> with <head>), so head HTML follows the first batch; render <html><head/><body>…</body></html> or pass the template option',
        ),
        'stream',
      );
      this.emitBatch(batch);
      this.emitQueue(headHtml);
      return;
    }
    this.send(found.bytes.subarray(0, found.at));
    this.send(headHtml);
    this.emitBatch([found.bytes.subarray(found.at), ...found.rest]);
  }

  /** Keeps a trailing `</body></html>` out of `batch` (it goes out last, in `finish`). */
  private holdEndOfDocument(batch: Chunk[]): void {
    const last = batch.length - 1;
    const tail = batch[last];
    if (tail === undefined) return;
    if (typeof tail === 'string' && tail.length >= END_OF_DOCUMENT_TEXT.length) {
      if (tail.endsWith(END_OF_DOCUMENT_TEXT)) {
        batch[last] = tail.slice(0, -END_OF_DOCUMENT_TEXT.length);
        this.heldTail = END_OF_DOCUMENT;
      }
      return;
    }
    const bytes = toBytes(tail);
    const n = END_OF_DOCUMENT.length;
    if (bytes.length >= n) {
      if (endsWith(bytes, END_OF_DOCUMENT)) {
        batch[last] = bytes.subarray(0, bytes.length - n);
        this.heldTail = END_OF_DOCUMENT;
      }
      return;
    }
    // The end tags are split across the last two writes (a 4 KB view filled up in between).
    const joined = Buffer.concat(batch.slice(Math.max(0, last - 1)).map(toBytes));
    if (joined.length >= n && endsWith(joined, END_OF_DOCUMENT)) {
      batch.splice(Math.max(0, last - 1), 2, joined.subarray(0, joined.length - n));
      this.heldTail = END_OF_DOCUMENT;
    }
  }

  private send(chunk: Chunk): void {
    if (this.closed || !this.sink) return;
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (size === 0) return;
    this.bytes += size;
    if (!this.sink.write(chunk)) this.hasCapacity = false;
  }
}

const DOCTYPE = '<!DOCTYPE html>';

function startsWithDoctype(chunk: Chunk | undefined): boolean {
  if (chunk === undefined) return false;
  if (typeof chunk === 'string') return chunk.startsWith(DOCTYPE);
  if (chunk.byteLength < DOCTYPE.length) return false;
  for (let i = 0; i < DOCTYPE.length; i++) {
    if (chunk[i] !== DOCTYPE.charCodeAt(i)) return false;
  }
  return true;
}

function asBuffer(chunk: Chunk): Buffer {
  return typeof chunk === 'string'
    ? Buffer.from(chunk)
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Finds a position in the first chunks of a batch without copying the whole batch: chunks are
 * joined one at a time until `find` succeeds (the head of a document is near its start).
 * `bytes` holds the joined chunks, `rest` the chunks after them.
 */
function locate(
  batch: Chunk[],
  find: (bytes: Buffer) => number,
): { bytes: Buffer; at: number; rest: Chunk[] } {
  let used = 1;
  let bytes = asBuffer(batch[0] ?? '');
  for (;;) {
    const at = find(bytes);
    if (at !== -1 || used >= batch.length) return { bytes, at, rest: batch.slice(used) };
    const take = used < 8 ? 1 : batch.length - used;
    bytes = Buffer.concat([bytes, ...batch.slice(used, used + take).map(asBuffer)]);
    used += take;
  }
}

function toBytes(chunk: Chunk): Uint8Array {
  return typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
}

function endsWith(bytes: Uint8Array, suffix: Uint8Array): boolean {
  const offset = bytes.length - suffix.length;
  if (offset < 0) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (bytes[offset + i] !== suffix[i]) return false;
  }
  return true;
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * The byte offset of the `</head>` that closes the document's head in React's first batch,
 * or -1. `<script>`, `<style>`, `<noscript>` and `<template>` contents are skipped (React
 * escapes text, so only these can hold a literal `</head>`),
 * so a `</head>` inside an inline script is not taken for the real one.
 */
export function findHeadClose(shell: Buffer): number {
  const first = shell.indexOf(HEAD_CLOSE);
  if (first === -1) return -1;
  // Everything before `</head>` is ASCII tags and escaped text except raw-text contents.
  const text = shell.toString('latin1', 0, Math.min(shell.length, first + HEAD_CLOSE.length));
  if (!/<(script|style|noscript|template)[\s>/]/i.test(text)) return first;
  const full = shell.toString('latin1');
  const lower = full.toLowerCase();
  const rawText = /<(script|style|noscript|template)[\s>/]/g;
  let from = 0;
  for (;;) {
    const close = lower.indexOf(HEAD_CLOSE, from);
    if (close === -1) return -1;
    rawText.lastIndex = from;
    const open = rawText.exec(lower);
    if (open === null || open.index > close) return close;
    const endTag = lower.indexOf(`</${open[1]}`, open.index + open[0].length);
    if (endTag === -1) return -1;
    from = endTag + open[1]!.length + 2;
  }
}
