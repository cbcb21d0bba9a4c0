import { AsyncResource } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import type { Chunk, Sink } from './document-stream';

/** What the sinks need from the render. */
export interface SinkHost {
  /** Hands the document to a sink (throws if the result was already consumed). */
  consume(sink: Sink): void;
  /** The sink can take more data. */
  drain(): void;
  /** The receiver went away. */
  disconnect(): void;
  /** The response status (read when the first byte is sent). */
  readonly status: number;
  /** The response headers (read only when a sink needs them). */
  readonly responseHeaders: Headers;
}

const encoder = new TextEncoder();

function isServerResponse(writable: unknown): writable is ServerResponse {
  return (
    typeof (writable as ServerResponse).setHeader === 'function' &&
    typeof (writable as ServerResponse).headersSent === 'boolean'
  );
}

/** Copies `headers` onto a Node response, keeping every `set-cookie` value separate. */
function writeHeaders(res: ServerResponse, status: number, headers: Headers): void {
  res.statusCode = status;
  const seen = new Set<string>();
  headers.forEach((_value, name) => {
    if (name === 'set-cookie' || seen.has(name)) return;
    seen.add(name);
    res.setHeader(name, headers.get(name) as string);
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
}

type NodeWritable = NodeJS.WritableStream & {
  flush?: () => void;
  destroy?: (error?: Error) => void;
  destroyed?: boolean;
};

/** A Node writable as a sink: backpressure through `drain`, a close before the end is a disconnect. */
class NodeSink implements Sink {
  private ended = false;
  private readonly stream: NodeWritable;
  private readonly host: SinkHost;
  /**
   * The async context of the `pipe()` call. Writes run in it, not in React's per-render
   * context: Node creates the response's write callbacks and, once it finishes, the
   * connection's keep-alive timer in the context of the write, and an idle keep-alive
   * connection would otherwise keep the whole last render reachable until its next request.
   */
  private readonly scope: AsyncResource;
  private readonly onDrain: () => void;
  private readonly onClose: () => void;
  /** A compression middleware's `flush()`, when the writable has one. */
  private readonly flushStream: (() => void) | undefined;
  /** The connection under a `ServerResponse`. */
  private readonly socket: { writableCorked?: number; uncork(): void } | undefined;

  constructor(stream: NodeWritable, host: SinkHost) {
    this.stream = stream;
    this.host = host;
    this.scope = new AsyncResource('KilnResponse');
    this.onDrain = host.drain.bind(host);
    this.onClose = this.closed.bind(this);
    this.flushStream = typeof stream.flush === 'function' ? stream.flush.bind(stream) : undefined;
    this.socket = isServerResponse(stream) ? (stream.socket ?? undefined) : undefined;
    stream.on('drain', this.onDrain);
    stream.on('close', this.onClose);
    stream.on('error', this.onClose);
  }

  write(chunk: Chunk): boolean {
    return this.scope.runInAsyncScope(this.stream.write, this.stream, chunk);
  }

  end(): void {
    if (this.finish()) this.scope.runInAsyncScope(this.stream.end, this.stream);
  }

  /**
   * A batch is complete: send it now. A `ServerResponse` corks its socket on `write()` until
   * the next `process.nextTick`, and when data is at hand React renders the next boundaries in
   * the same run of microtasks, before that tick: without the uncork the shell would leave
   * together with the whole page.
   */
  flush(): void {
    this.flushStream?.();
    const socket = this.socket;
    if (socket?.writableCorked) socket.uncork();
  }

  error(error: unknown): void {
    if (this.finish())
      this.stream.destroy?.(error instanceof Error ? error : new Error(String(error)));
  }

  /** The writable closed on its own: the client went away unless the document had ended. */
  checkDestroyed(): void {
    if (this.stream.destroyed) this.closed();
  }

  private closed(): void {
    if (this.finish()) this.host.disconnect();
  }

  private finish(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.stream.removeListener('drain', this.onDrain);
    this.stream.removeListener('close', this.onClose);
    this.stream.removeListener('error', this.onClose);
    return true;
  }
}

/** Writes the document into a Node writable (status and headers first for a `ServerResponse`). */
export function pipeTo<W extends NodeJS.WritableStream>(host: SinkHost, writable: W): W {
  if (isServerResponse(writable) && !writable.headersSent) {
    writeHeaders(writable, host.status, host.responseHeaders);
  }
  const sink = new NodeSink(writable, host);
  host.consume(sink);
  sink.checkDestroyed();
  return writable;
}

/** The document as a Web `Response` with a streaming body. */
export function toWebResponse(host: SinkHost, init: ResponseInit | undefined): Response {
  const status = host.status;
  const headers = host.responseHeaders;
  let open = true;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        host.consume({
          write(chunk) {
            if (!open) return false;
            controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
            return (controller.desiredSize ?? 1) > 0;
          },
          end() {
            if (!open) return;
            open = false;
            controller.close();
          },
          error(error) {
            if (!open) return;
            open = false;
            controller.error(error);
          },
        });
      },
      pull() {
        host.drain();
      },
      cancel() {
        if (!open) return;
        open = false;
        host.disconnect();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  const responseHeaders = new Headers(headers);
  if (init?.headers) {
    new Headers(init.headers).forEach((value, name) => {
      if (name === 'set-cookie') responseHeaders.append(name, value);
      else responseHeaders.set(name, value);
    });
  }
  return new Response(body, {
    status: init?.status ?? status,
    ...(init?.statusText !== undefined ? { statusText: init.statusText } : {}),
    headers: responseHeaders,
  });
}

/** A sink that collects the document into one string. */
class TextSink implements Sink {
  private readonly parts: Buffer[] = [];
  private readonly resolve: (text: string) => void;
  private readonly reject: (error: unknown) => void;

  constructor(resolve: (text: string) => void, reject: (error: unknown) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }

  write(chunk: Chunk): boolean {
    this.parts.push(
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
    return true;
  }

  end(): void {
    this.resolve(Buffer.concat(this.parts).toString('utf8'));
  }

  error(error: unknown): void {
    this.reject(error);
  }
}

/** The whole document as a string. */
export function toText(host: SinkHost): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    host.consume(new TextSink(resolve, reject));
  });
}
