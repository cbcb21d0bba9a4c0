/**
 * The server entry: what `vite.ssrLoadModule` loads in development (fresh after every edit)
 * and what `vite build --ssr` bundles for production.
 */
import type { IncomingMessage } from 'node:http';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apollo, forwardHeaders } from '@kiln/apollo';
import {
  type ErrorDocumentInfo,
  type KilnPlugin,
  type RenderContext,
  type RenderErrorInfo,
  type RenderResult,
  renderToHtml,
  useRenderContext,
} from '@kiln/core';
import { emotion } from '@kiln/emotion';
import type { ReactNode } from 'react';
import { App } from './App';

/** What the server passes for one request. */
export interface RenderPageOptions {
  /** The template of this response: Vite's `index.html` with the nonce filled in. */
  template: string;
  /** The CSP nonce of this response. */
  nonce: string;
  /** Answers the app's GraphQL requests in-process (the shop's `graphql.fetch`). */
  graphqlFetch: (request: Request) => Response | Promise<Response>;
  /** Development: the error document shows the message and the stack. */
  dev: boolean;
  /** Where render errors go. */
  onError: (error: unknown, info: RenderErrorInfo) => void;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The page sent for a shell error: in development the message and the (source-mapped) stack,
 * in production a generic text.
 */
function errorDocument(dev: boolean) {
  return (error: unknown, info: ErrorDocumentInfo): string => {
    const detail =
      dev && error instanceof Error
        ? `<pre data-testid="error-stack">${escapeHtml(error.stack ?? error.message)}</pre>`
        : '<p>Something went wrong on our side. Please try again in a moment.</p>';
    return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error ${info.status}</title></head><body><h1>Error ${info.status}</h1>${detail}</body></html>`;
  };
}

/** The query parameter that asks for the complete (buffered) page, for browsers without JavaScript. */
const NO_SCRIPT_PARAM = 'noscript';

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * Streamed Suspense boundaries need JavaScript to appear. A browser without it follows this
 * `<noscript>` refresh to the same page rendered complete (`?noscript=1`, buffered).
 */
const noScriptFallback: KilnPlugin = {
  name: 'example-vite-noscript',
  setup(ctx) {
    return {
      head: () => {
        if (ctx.mode !== 'stream') return '';
        const target = new URL(ctx.url);
        target.searchParams.set(NO_SCRIPT_PARAM, '1');
        const url = escapeAttribute(target.pathname + target.search);
        return `<noscript><meta http-equiv="refresh" content="0; url=${url}"></noscript>`;
      },
    };
  },
};

function ServerApp(): ReactNode {
  return <App url={useRenderContext().url.href} />;
}

/**
 * Renders the page of one request into the template: the app into `<div id="root">`, its
 * `<title>`, `<meta>`, critical CSS and state into the template's `<head>`.
 */
export function renderPage(
  request: IncomingMessage,
  options: RenderPageOptions,
): Promise<RenderResult> {
  const makeClient = (ctx: RenderContext) =>
    new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({
        uri: 'http://embedded.invalid/graphql',
        fetch: async (input, init) => options.graphqlFetch(new Request(input, init)),
        headers: forwardHeaders(ctx, ['cookie', 'accept-language']),
      }),
    });
  const noScript = new URL(request.url ?? '/', 'http://localhost').searchParams.has(
    NO_SCRIPT_PARAM,
  );
  return renderToHtml(<ServerApp />, {
    request,
    template: options.template,
    nonce: options.nonce,
    // Streams to browsers (the shell first, staff picks when they arrive); complete pages for
    // crawlers and for browsers without JavaScript.
    mode: noScript ? 'buffer' : 'auto',
    plugins: [noScriptFallback, emotion(), apollo({ makeClient })],
    onError: options.onError,
    errorDocument: errorDocument(options.dev),
  });
}
