import { createElement, type ReactNode, useContext } from 'react';
import { renderContextReact } from './render-context';
import type { RenderContext, RequestInfo } from './types';

/**
 * Design note: how a pre-render finds its holes.
 *
 * During a pre-render (see `partial.ts`), components see a guarded view of the render context.
 * Reading request input through it (`headers`, `cookies`, `request.headers`,
 * `request.cookies`, `isBot`) or rendering `<Dynamic>` throws one promise that never settles:
 * React suspends the component, and the nearest Suspense boundary stays pending until the
 * pre-render is aborted, which makes it a hole that each request renders with its own input.
 * No value is ever returned, so no visitor's input can enter the shell. A read outside any
 * boundary suspends the shell itself: the page cannot be partial (`KILN_DYNAMIC_SHELL`).
 *
 * Outside a pre-render (a normal render, or a resume) the view passes everything through.
 */

const PRERENDER: unique symbol = Symbol.for('kiln.core.prerender');

/** What a pre-render records about its holes. */
export interface PrerenderGuard {
  /** The promise that never settles; throwing it suspends the caller for good. */
  readonly hole: Promise<never>;
  /** What each suspended read was (`cookies`, `<Dynamic>`, …), in order. */
  readonly reads: string[];
  /**
   * The request headers the shell may read (lower-cased): those every request resuming it
   * agrees on, such as a cache key's `vary` headers. Any other header read suspends.
   */
  readonly shared: ReadonlySet<string>;
}

type Guarded = { [PRERENDER]?: PrerenderGuard };

/** Creates the guard of one pre-render; `shared`: the header names the shell may read. */
export function createGuard(shared: ReadonlySet<string> = new Set()): PrerenderGuard {
  return { hole: new Promise<never>(() => {}), reads: [], shared };
}

/** Marks `ctx` (the render's own context, as plugins see it) as pre-rendering under `guard`. */
export function markPrerender(ctx: RenderContext, guard: PrerenderGuard): void {
  (ctx as RenderContext & Guarded)[PRERENDER] = guard;
}

function guardOf(ctx: RenderContext | undefined): PrerenderGuard | undefined {
  return (ctx as (RenderContext & Guarded) | undefined)?.[PRERENDER];
}

/** Suspends the caller for good when `guard` is set (records `what`). */
function postpone(guard: PrerenderGuard | undefined, what: string): void {
  if (guard === undefined) return;
  guard.reads.push(what);
  throw guard.hole;
}

/**
 * Declares that the caller is about to use request-specific input (a cookie, a header, data
 * fetched with the visitor's credentials). During a partial pre-render it suspends the calling
 * component for good, so its nearest `<Suspense>` boundary becomes a hole rendered per request;
 * in any other render it returns at once. Call it during render (a component or a hook), for
 * example from a data layer's hook before it fetches personal data.
 *
 * Experimental: part of partial pre-rendering.
 *
 * @example
 * ```tsx
 * import { requestInput, useRenderContext } from '@kiln/core';
 *
 * function useSessionId(): string | undefined {
 *   const ctx = useRenderContext();
 *   requestInput(ctx, 'session');
 *   return ctx.cookies.session;
 * }
 * ```
 */
export function requestInput(ctx: RenderContext | undefined, what = 'request input'): void {
  postpone(guardOf(ctx), what);
}

/**
 * Whether `ctx` belongs to a partial pre-render (no visitor: request input suspends).
 *
 * Experimental: part of partial pre-rendering.
 *
 * @example
 * ```ts
 * import { isPrerendering, type RenderContext } from '@kiln/core';
 *
 * const label = (ctx: RenderContext) => (isPrerendering(ctx) ? 'shell' : 'request');
 * ```
 */
export function isPrerendering(ctx: RenderContext | undefined): boolean {
  return guardOf(ctx) !== undefined;
}

/**
 * The request headers as components see them in a pre-render with shared headers: `get` and
 * `has` of a shared name answer; any other name, and every way to list or change the headers,
 * suspends (the read is recorded with the header's name).
 *
 * Defined on first use: in Node 20 the first touch of the global `Headers` loads the fetch
 * implementation, which opens a handle on stderr, and importing Kiln must have no effect.
 */
function defineSharedHeaders() {
  return class SharedHeaders extends Headers {
    private readonly guard: PrerenderGuard;

    constructor(source: Headers, guard: PrerenderGuard) {
      super();
      this.guard = guard;
      for (const name of guard.shared) {
        const value = source.get(name);
        if (value !== null) super.set(name, value);
      }
    }

    private check(name: string): void {
      if (!this.guard.shared.has(name.toLowerCase())) postpone(this.guard, `header ${name}`);
    }

    override get(name: string): string | null {
      this.check(name);
      return super.get(name);
    }

    override has(name: string): boolean {
      this.check(name);
      return super.has(name);
    }

    override getSetCookie(): string[] {
      postpone(this.guard, 'headers');
      return [];
    }

    override forEach(): void {
      postpone(this.guard, 'headers');
    }

    override entries(): HeadersIterator<[string, string]> {
      postpone(this.guard, 'headers');
      return super.entries();
    }

    override keys(): HeadersIterator<string> {
      postpone(this.guard, 'headers');
      return super.keys();
    }

    override values(): HeadersIterator<string> {
      postpone(this.guard, 'headers');
      return super.values();
    }

    override [Symbol.iterator](): HeadersIterator<[string, string]> {
      postpone(this.guard, 'headers');
      return super[Symbol.iterator]();
    }

    override set(): void {
      postpone(this.guard, 'headers');
    }

    override append(): void {
      postpone(this.guard, 'headers');
    }

    override delete(): void {
      postpone(this.guard, 'headers');
    }
  };
}

type SharedHeadersClass = ReturnType<typeof defineSharedHeaders>;
let sharedHeadersClass: SharedHeadersClass | undefined;

/** `source`'s shared headers, as the guarded view of a pre-render hands them out. */
function sharedHeadersOf(source: Headers, guard: PrerenderGuard): Headers {
  sharedHeadersClass ??= defineSharedHeaders();
  return new sharedHeadersClass(source, guard);
}

/** The request as components see it during a pre-render: the URL, the method and the shared headers. */
class GuardedRequest implements RequestInfo {
  private readonly target: RequestInfo;
  private readonly guard: PrerenderGuard;
  private sharedHeaders: Headers | undefined;

  constructor(target: RequestInfo, guard: PrerenderGuard) {
    this.target = target;
    this.guard = guard;
  }

  get url(): URL {
    return this.target.url;
  }

  get method(): string {
    return this.target.method;
  }

  get headers(): Headers {
    if (this.guard.shared.size === 0) postpone(this.guard, 'headers');
    this.sharedHeaders ??= sharedHeadersOf(this.target.headers, this.guard);
    return this.sharedHeaders;
  }

  get cookies(): Readonly<Record<string, string>> {
    postpone(this.guard, 'cookies');
    return this.target.cookies;
  }
}

/**
 * The render context as components see it in a partial render: during a pre-render, request
 * input suspends (see the design note above); on resume everything passes through.
 */
export class ContextView implements RenderContext {
  /** The render's context, set once plugins are set up. */
  target!: RenderContext;
  private readonly guard: PrerenderGuard | undefined;
  private guardedRequest: GuardedRequest | undefined;

  constructor(guard: PrerenderGuard | undefined) {
    this.guard = guard;
    if (guard !== undefined) (this as Guarded)[PRERENDER] = guard;
  }

  get request(): RequestInfo {
    const guard = this.guard;
    if (guard === undefined) return this.target.request;
    this.guardedRequest ??= new GuardedRequest(this.target.request, guard);
    return this.guardedRequest;
  }

  get url(): URL {
    return this.target.url;
  }

  get headers(): Headers {
    return this.request.headers;
  }

  get cookies(): Readonly<Record<string, string>> {
    return this.request.cookies;
  }

  get nonce(): string | undefined {
    return this.target.nonce;
  }

  get isBot(): boolean {
    postpone(this.guard, 'isBot');
    return this.target.isBot;
  }

  get mode(): 'stream' | 'buffer' {
    return this.target.mode;
  }

  get signal(): AbortSignal {
    return this.target.signal;
  }

  get headersSent(): boolean {
    return this.target.headersSent;
  }

  setStatus(code: number): void {
    this.target.setStatus(code);
  }

  redirect(url: string, code?: number): void {
    this.target.redirect(url, code);
  }

  setHeader(name: string, value: string): void {
    this.target.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.target.appendHeader(name, value);
  }

  setState(key: string, value: unknown): void {
    this.target.setState(key, value);
  }

  inject(html: string): void {
    this.target.inject(html);
  }

  waitFor(promise: Promise<unknown>): void {
    this.target.waitFor(promise);
  }

  reportError(...args: Parameters<RenderContext['reportError']>): void {
    this.target.reportError(...args);
  }
}

/** The app below a context view (the same element in the pre-render and every resume). */
export function withContextView(app: ReactNode, view: ContextView): ReactNode {
  return createElement(renderContextReact().Provider, { value: view }, app);
}

/** Props of {@link Dynamic}. */
export interface DynamicProps {
  /** What is personal here, for diagnostics (e.g. `'cart'`). */
  readonly name?: string;
  /** The personal content. */
  readonly children?: ReactNode;
}

/**
 * Marks personal content for partial pre-rendering: during a pre-render it suspends, so its
 * nearest `<Suspense>` boundary becomes a hole that every request renders fresh; in any other
 * render (and in the browser) it renders its children. Put it inside a `<Suspense>` boundary
 * whose fallback is the same for every visitor.
 *
 * Experimental: part of partial pre-rendering.
 *
 * @example
 * ```tsx
 * import { Suspense } from 'react';
 * import { Dynamic } from '@kiln/core/client';
 *
 * export function CartBadge(props: { count: number }) {
 *   return (
 *     <Suspense fallback={<span>Cart</span>}>
 *       <Dynamic name="cart">
 *         <span>Cart ({props.count})</span>
 *       </Dynamic>
 *     </Suspense>
 *   );
 * }
 * ```
 */
export function Dynamic(props: DynamicProps): ReactNode {
  useDynamic(props.name);
  return props.children;
}

/**
 * The hook form of {@link Dynamic}: during a pre-render the calling component suspends (its
 * boundary becomes a hole); elsewhere it does nothing.
 *
 * Experimental: part of partial pre-rendering.
 *
 * @example
 * ```tsx
 * import { useDynamic } from '@kiln/core/client';
 *
 * export function Greeting(props: { name: string }) {
 *   useDynamic('greeting');
 *   return <p>Hello {props.name}</p>;
 * }
 * ```
 */
export function useDynamic(name?: string): void {
  const ctx = useContext(renderContextReact());
  postpone(guardOf(ctx), name === undefined ? '<Dynamic>' : `<Dynamic name="${name}">`);
}
