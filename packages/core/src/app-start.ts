import { createElement, Fragment, type ReactNode } from 'react';

/**
 * In template mode the app is rendered after a marker element, so the server can tell
 * React's hoisted head tags (written before the app) from the app's own markup. The server
 * removes the marker's bytes from the output; the client renders nothing in its place. Both
 * sides render the same tree shape, so `useId` values match.
 */
export const APP_START_HTML = '<template data-kiln-app=""></template>';

function ServerAppStart(): ReactNode {
  return createElement('template', { 'data-kiln-app': '' });
}

function ClientAppStart(): ReactNode {
  return null;
}

/** The app behind the template-mode marker, for the server render. */
export function withServerAppStart(app: ReactNode): ReactNode {
  return createElement(Fragment, null, createElement(ServerAppStart), app);
}

/** The app behind the template-mode marker's empty client twin, for hydration. */
export function withClientAppStart(app: ReactNode): ReactNode {
  return createElement(Fragment, null, createElement(ClientAppStart), app);
}
