import { escapeAttribute, escapeText } from '@kiln/serialize';
import { messageOf } from '../shared/errors';
import type { ErrorDocumentInfo } from '../shared/types';

/**
 * The document sent for a shell error. Outside production it shows the message and the
 * stack (escaped); in production only a generic text.
 */
export function errorDocument(error: unknown, info: ErrorDocumentInfo): string {
  const detail = info.dev
    ? `<pre>${escapeText(error instanceof Error && error.stack ? error.stack : messageOf(error))}</pre>`
    : '';
  const message = info.dev
    ? `<p>${escapeText(messageOf(error))}</p>`
    : '<p>Something went wrong on our side. Please try again later.</p>';
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${info.status} Server error</title></head><body><h1>${info.status} Server error</h1>${message}${detail}</body></html>`;
}

/** The small body of a redirect response; it links to the target only when `link` (an http(s) or relative target). */
export function redirectDocument(url: string, link: boolean): string {
  const to = link ? `<a href="${escapeAttribute(url)}">${escapeText(url)}</a>` : escapeText(url);
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Redirecting</title></head><body><p>Redirecting to ${to}.</p></body></html>`;
}
