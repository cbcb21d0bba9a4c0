import { Writable } from 'node:stream';
import { type ReactNode, Suspense, use } from 'react';

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Renders `children(value)` once `promise` resolves (suspends until then). */
export function Await<T>(props: {
  promise: Promise<T>;
  children: (value: T) => ReactNode;
}): ReactNode {
  const value = use(props.promise);
  return props.children(value);
}

/** A Suspense boundary with a recognisable fallback. */
export function Boundary(props: { name: string; children: ReactNode }): ReactNode {
  return (
    <Suspense fallback={<p data-fallback={props.name}>loading {props.name}</p>}>
      {props.children}
    </Suspense>
  );
}

/** A whole document around `children`. */
export function Doc(props: { title?: string; children: ReactNode }): ReactNode {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <title>{props.title ?? 'Test'}</title>
      </head>
      <body>{props.children}</body>
    </html>
  );
}

/** A Node writable that records what it receives and when it ended. */
export interface Recorder {
  stream: Writable;
  chunks: string[];
  text(): string;
  ended: boolean;
  finished: Promise<string>;
}

export function recorder(): Recorder {
  const chunks: string[] = [];
  let done!: (text: string) => void;
  const finished = new Promise<string>((resolve) => {
    done = resolve;
  });
  const rec: Recorder = {
    chunks,
    text: () => chunks.join(''),
    ended: false,
    finished,
    stream: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        callback();
      },
      final(callback) {
        rec.ended = true;
        done(chunks.join(''));
        callback();
      },
    }),
  };
  return rec;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
