import type { RenderResult } from '@kiln/core';
import {
  abstractNonce,
  joinHeader,
  type NonceTemplate,
  noncePieces,
  placeholderNonce,
  splitHeader,
} from './nonce';
import type { CacheEntry, JsonValue } from './store';
import { type Lifetime, retention } from './swr';

/**
 * A page as the page cache stores it: status, headers and body with the CSP nonce cut out
 * (so each hit gets its own), its lifetime, tags and crawler/browser variant; and its
 * encoding as a store entry (the body as the value, the rest in `meta`).
 */
export interface StoredPage extends Lifetime {
  readonly status: number;
  readonly headers: readonly (readonly [string, readonly string[]])[];
  readonly template: NonceTemplate;
  readonly nonce: boolean;
  readonly tags: readonly string[];
  /** Set when the render asked `ctx.isBot`: the page is only for crawlers, or only for browsers. */
  readonly variant: Variant | undefined;
}

/** Which kind of visitor a page that asked `ctx.isBot` was rendered for. */
export type Variant = 'bot' | 'browser';

/** The version of the entry format this code writes and reads. */
const FORMAT = 1;

/** Response headers that belong to one response, never to the stored page. */
const NOT_STORED_HEADERS = new Set([
  'age',
  'date',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'set-cookie',
]);

/**
 * The page to store for a render of `html` with `nonce`: the nonce is cut out of the body
 * and the headers; `header` (the cache's own status header) is not stored.
 */
export function toStoredPage(
  rendered: {
    readonly result: RenderResult;
    readonly html: string;
    readonly nonce: string | undefined;
    readonly tags: Iterable<string>;
  },
  lifetime: Lifetime,
  header: string | false,
): StoredPage {
  const { result, html, nonce } = rendered;
  const headers: (readonly [string, readonly string[]])[] = [];
  result.headers.forEach((value, name) => {
    if (!NOT_STORED_HEADERS.has(name) && name !== header) {
      headers.push([name, splitHeader(value, nonce)]);
    }
  });
  return {
    ...lifetime,
    status: result.status,
    headers,
    template: abstractNonce(html, nonce),
    nonce: nonce !== undefined,
    tags: [...rendered.tags],
    variant: variantOf(result.diagnostics.inputs.bot),
  };
}

/** Whether `page` may be served to a request with `nonce` (a page stored with none has no place for one). */
export function servesNonce(page: StoredPage, nonce: string | undefined): boolean {
  return page.nonce || nonce === undefined;
}

/**
 * The body pieces and headers of `page` for one response, with `nonce` put back where the
 * stored nonce was (a placeholder when the request has none).
 */
export function fillPage(
  page: StoredPage,
  nonce: string | undefined,
): { pieces: Buffer[]; headers: Headers; bytes: number } {
  const fill = page.nonce ? (nonce ?? placeholderNonce()) : '';
  const pieces = noncePieces(page.template, fill);
  const headers = new Headers();
  for (const [name, parts] of page.headers) headers.append(name, joinHeader(parts, fill));
  const bytes = page.template.body.length + Buffer.byteLength(fill) * page.template.cuts.length;
  return { pieces, headers, bytes };
}

/** The store entry of `page`, and how long the store keeps it. */
export function encodePage(page: StoredPage): { entry: CacheEntry; ttlMs: number } {
  const meta: { [key: string]: JsonValue } = {
    v: FORMAT,
    status: page.status,
    headers: page.headers.map(([name, parts]) => [name, [...parts]]),
    cuts: [...page.template.cuts],
    nonce: page.nonce,
    storedAt: page.storedAt,
    freshUntil: page.freshUntil,
    staleUntil: page.staleUntil,
  };
  if (page.variant) meta.variant = page.variant;
  return { entry: { value: page.template.body, meta, tags: page.tags }, ttlMs: retention(page) };
}

/** The page of a store entry; `undefined` when the entry is not in the format this version writes. */
export function decodePage(entry: CacheEntry): StoredPage | undefined {
  const meta = entry.meta as Record<string, unknown>;
  if (meta.v !== FORMAT || typeof meta.status !== 'number') return undefined;
  const cuts = meta.cuts;
  const headers = meta.headers;
  if (!Array.isArray(cuts) || !Array.isArray(headers)) return undefined;
  const body = typeof entry.value === 'string' ? Buffer.from(entry.value) : entry.value;
  for (const cut of cuts)
    if (typeof cut !== 'number' || cut < 0 || cut > body.length) return undefined;
  const numbers = [meta.storedAt, meta.freshUntil, meta.staleUntil];
  if (!numbers.every((n) => typeof n === 'number')) return undefined;
  return {
    status: meta.status,
    headers: headers as [string, string[]][],
    template: { body, cuts: cuts as number[] },
    nonce: meta.nonce === true,
    storedAt: meta.storedAt as number,
    freshUntil: meta.freshUntil as number,
    staleUntil: meta.staleUntil as number,
    tags: entry.tags,
    variant: meta.variant === 'bot' || meta.variant === 'browser' ? meta.variant : undefined,
  };
}

function variantOf(bot: boolean | undefined): Variant | undefined {
  return bot === undefined ? undefined : bot ? 'bot' : 'browser';
}

/** The key of one variant of a page that differs between crawlers and browsers. */
export function variantKey(key: string, variant: Variant): string {
  return `${key}\nvariant=${variant}`;
}
