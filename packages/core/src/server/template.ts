import { KilnError } from '../shared/errors';
import type { TemplateOptions } from '../shared/types';
import { addNonce } from './nonce';

/** The attribute that marks the element the app renders into (the client hydrates it). */
export const ROOT_ATTRIBUTE = 'data-kiln-root';

/** A template cut into the parts the stream writes around React's output. */
export interface TemplateParts {
  readonly head: string;
  readonly body: string;
  readonly tail: string;
}

/**
 * Cuts a template into the part before the head insertion point, the part up to the app,
 * and the rest. The app's container (the element whose content is the app marker) gets the
 * `data-kiln-root` attribute so `hydrate()` finds it; scripts and styles of the template get
 * the nonce.
 */
export function splitTemplate(
  template: string | TemplateOptions,
  nonce: string | undefined,
): TemplateParts {
  const options = typeof template === 'string' ? { html: template } : template;
  const html = options.html;
  const appMarker = options.appMarker ?? '<!--app-html-->';
  const headMarker = options.headMarker ?? '<!--app-head-->';
  const appAt = html.indexOf(appMarker);
  if (appAt === -1) {
    throw new KilnError(
      'KILN_INVALID_TEMPLATE',
      `the template has no app marker ${JSON.stringify(appMarker)}; put it inside the element the app renders into, e.g. <div id="root">${appMarker}</div>`,
    );
  }
  let headAt = html.indexOf(headMarker);
  let headLength = headMarker.length;
  if (headAt === -1 || headAt > appAt) {
    headAt = html.search(/<\/head\s*>/i);
    headLength = 0;
    if (headAt === -1 || headAt > appAt) {
      throw new KilnError(
        'KILN_INVALID_TEMPLATE',
        `the template has neither a head marker ${JSON.stringify(headMarker)} nor a </head> before the app marker; add ${headMarker} inside <head>`,
      );
    }
  }
  const head = html.slice(0, headAt);
  const body = markContainer(html.slice(headAt + headLength, appAt));
  const tail = html.slice(appAt + appMarker.length);
  return {
    head: addNonce(head, nonce),
    body: addNonce(body, nonce),
    tail: addNonce(tail, nonce),
  };
}

/** Adds `data-kiln-root` to the last start tag of `html` (the app's container). */
function markContainer(html: string): string {
  const trimmed = html.trimEnd();
  if (!trimmed.endsWith('>')) return html;
  const open = trimmed.lastIndexOf('<');
  const tag = /^<([a-zA-Z][a-zA-Z0-9-]*)/.exec(trimmed.slice(open));
  if (open === -1 || tag === null) return html;
  const start = trimmed.slice(open);
  if (start.includes(ROOT_ATTRIBUTE)) return html;
  const nameEnd = open + 1 + (tag[1] as string).length;
  return `${html.slice(0, nameEnd)} ${ROOT_ATTRIBUTE}=""${html.slice(nameEnd)}`;
}
