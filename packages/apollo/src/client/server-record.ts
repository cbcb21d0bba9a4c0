import type { ApolloClient } from '@apollo/client';
import { canonicalStringify } from '@apollo/client/utilities';
import { parse } from '@kiln/serialize/client';
import { type DocumentNode, parse as parseDocument, print } from 'graphql';
import { KilnApolloError } from '../shared/errors';
import {
  type BufferedState,
  errorFromWire,
  type StreamChunk,
  type WireError,
  type WireKey,
  type WireWrite,
} from '../shared/transport';

interface CacheWriter {
  write(options: {
    query: DocumentNode;
    variables?: Record<string, unknown>;
    dataId?: string;
    result: unknown;
    overwrite?: boolean;
  }): unknown;
}

/** An operation the server still has in flight while the page streams. */
export interface RunningOperation {
  /** Settles when the server's result arrived, or when the stream ended without it. */
  done: Promise<void>;
  release(): void;
}

const variablesOf = (options: unknown): Record<string, unknown> =>
  (typeof options === 'object' && options !== null
    ? (options as { variables?: Record<string, unknown> }).variables
    : undefined) ?? {};

/**
 * What the server sent about the page's operations, received in the browser: the documents,
 * the results (written into the browser's cache), the errors, which hook results it served,
 * and which operations it still has in flight while the page streams. Keys are the printed
 * query and its canonical variables (`text|variables`), the same on both sides.
 */
export class ServerRecord {
  private readonly docs = new Map<number, DocumentNode>();
  private readonly docTexts = new Map<number, string>();
  private readonly printed = new WeakMap<DocumentNode, string>();
  private readonly errors = new Map<string, Error>();
  /** Hook queries with a refetching policy whose result the server sent. */
  private readonly served = new Set<string>();
  /** Operations the server has in flight while streaming. */
  private readonly running = new Map<string, RunningOperation>();

  /** Takes the final state of a buffered page (its cache goes into `client`). */
  applyBuffered(state: BufferedState, client: ApolloClient): void {
    client.cache.restore(state.cache as never);
    this.addDocs(state.d);
    this.write(state.w, client);
    this.addErrors(state.e);
    this.addServed(state.s);
  }

  /** Takes one streamed chunk (its JSON text); its results go into `client`'s cache. */
  applyChunk(text: unknown, client: ApolloClient): void {
    if (typeof text !== 'string') return;
    const chunk = parse(text) as StreamChunk;
    this.addDocs(chunk.d);
    this.write(chunk.w, client);
    this.addErrors(chunk.e);
    this.addServed(chunk.s);
    this.addRunning(chunk.p);
    this.finishRunning(chunk.f);
  }

  /** Replays the server's cache writes, in order, into `client`'s cache. */
  private write(writes: readonly WireWrite[] | undefined, client: ApolloClient): void {
    if (!writes || writes.length === 0) return;
    const cache = client.cache as unknown as CacheWriter & ApolloClient['cache'];
    cache.batch({
      update: () => {
        for (const [docId, variables, result, dataId, overwrite] of writes) {
          cache.write({
            query: this.documentById(docId),
            variables,
            result,
            ...(dataId === undefined ? {} : { dataId }),
            ...(overwrite ? { overwrite } : {}),
          });
        }
      },
    });
  }

  /** The stream ended: whatever the server did not finish, the browser fetches itself. */
  releaseAll(): void {
    for (const run of this.running.values()) run.release();
    this.running.clear();
  }

  /** The key of a query with a hook's options (their `variables`). */
  keyOf(query: DocumentNode, options: unknown): string {
    return this.keyOfVariables(query, variablesOf(options));
  }

  /** The server's error for a query with a hook's options, if it failed there. */
  errorFor(query: DocumentNode, options: unknown): Error | undefined {
    return this.errors.size === 0 ? undefined : this.errors.get(this.keyOf(query, options));
  }

  /** Whether the server sent the result of `query` with a hook's options. */
  hasServed(query: DocumentNode, options: unknown): boolean {
    return this.served.size > 0 && this.served.has(this.keyOf(query, options));
  }

  /** The server's run of an operation it still has in flight, if any. */
  runningFor(
    query: DocumentNode,
    variables: Record<string, unknown> | undefined,
  ): RunningOperation | undefined {
    if (this.running.size === 0) return undefined;
    return this.running.get(this.keyOfVariables(query, variables ?? {}));
  }

  private keyOfVariables(query: DocumentNode, variables: Record<string, unknown>): string {
    let text = this.printed.get(query);
    if (text === undefined) {
      text = print(query);
      this.printed.set(query, text);
    }
    return `${text}|${canonicalStringify(variables)}`;
  }

  private documentById(id: number): DocumentNode {
    let doc = this.docs.get(id);
    if (!doc) {
      const text = this.docTexts.get(id);
      if (text === undefined) {
        throw new KilnApolloError(
          'KILN_APOLLO_BAD_STATE',
          `the server sent a result for an unknown document #${id}; make sure the page and its client bundle come from the same build`,
        );
      }
      doc = parseDocument(text);
      this.docs.set(id, doc);
    }
    return doc;
  }

  private addDocs(d: Record<number, string> | undefined): void {
    if (!d) return;
    for (const [id, text] of Object.entries(d)) this.docTexts.set(Number(id), text);
  }

  private keyText(key: WireKey): string | undefined {
    const text = this.docTexts.get(key[0]);
    return text === undefined ? undefined : `${text}|${key[1]}`;
  }

  private addServed(s: WireKey[] | undefined): void {
    if (!s) return;
    for (const key of s) {
      const text = this.keyText(key);
      if (text !== undefined) this.served.add(text);
    }
  }

  private addRunning(p: WireKey[] | undefined): void {
    if (!p) return;
    for (const key of p) {
      const text = this.keyText(key);
      if (text === undefined || this.running.has(text)) continue;
      let release = (): void => {};
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      this.running.set(text, { done, release });
    }
  }

  private finishRunning(f: WireKey[] | undefined): void {
    if (!f) return;
    for (const key of f) {
      const text = this.keyText(key);
      const run = text === undefined ? undefined : this.running.get(text);
      if (!run || text === undefined) continue;
      this.running.delete(text);
      run.release();
    }
  }

  private addErrors(e: WireError[] | undefined): void {
    if (!e) return;
    for (const [docId, variables, error] of e) {
      const text = this.docTexts.get(docId);
      if (text !== undefined) this.errors.set(`${text}|${variables}`, errorFromWire(error));
    }
  }
}
