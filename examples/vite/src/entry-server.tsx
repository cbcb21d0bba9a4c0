/**
 * The server entry: what `vite.ssrLoadModule` loads in development (fresh after every edit)
 * and what `vite build --ssr` bundles for production.
 */
import type { IncomingMessage } from 'node:http';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { apollo, forwardHeaders } from '@kiln/apollo';
import {
  type ErrorDocumentInfo,
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
  return renderToHtml(<ServerApp />, {
    request,
    template: options.template,
    nonce: options.nonce,
    plugins: [emotion(), apollo({ makeClient })],
    onError: options.onError,
    errorDocument: errorDocument(options.dev),
  });
}
