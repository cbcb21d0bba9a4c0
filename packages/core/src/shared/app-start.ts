import { createElement, Fragment, type ReactNode } from 'react';

/**
 * In template mode the app is rendered after a marker element, so the server can tell
 * React's hoisted head tags (written before the app) from the app's own markup. The server
 * removes the marker's bytes from the output; the client renders nothing in its place. Both
 * sides render the same tree shape, so `useId` values match.
 *
 * The marker carries a random token of the render: content (data in a hoisted `<style>`'s
 * raw text, for instance) cannot write a marker the server would take for the real one.
 */
export function appStartToken(): string {
  // Web Crypto (a global in Node 19+ and browsers): this module is also part of the client.
  return crypto.randomUUID();
}

/** The bytes React writes for the marker of `token`. */
export function appStartHtml(token: string): string {
  return `<template data-kiln-app="${token}"></template>`;
}

function ServerAppStart(props: { token: string }): ReactNode {
  return createElement('template', { 'data-kiln-app': props.token });
}

function ClientAppStart(): ReactNode {
  return null;
}

/** The app behind the template-mode marker, for the server render. */
export function withServerAppStart(app: ReactNode, token: string): ReactNode {
  return createElement(Fragment, null, createElement(ServerAppStart, { token }), app);
}

/** The app behind the template-mode marker's empty client twin, for hydration. */
export function withClientAppStart(app: ReactNode): ReactNode {
  return createElement(Fragment, null, createElement(ClientAppStart), app);
}
