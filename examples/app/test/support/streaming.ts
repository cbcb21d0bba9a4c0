import { findAll, parseDocument, textOf } from '@kiln/test-utils';
import { expect } from 'vitest';
import { getTimed } from './http';

/** The markup of the streamed staff picks (the list), and of their fallback. */
export const PICKS_MARKUP = 'data-testid="picks"';
const PICKS_LOADING_MARKUP = 'data-testid="picks-loading"';

/** The CSS text of every `<style>` in a document, in order. */
export const styleText = (html: string): string =>
  findAll(parseDocument(html), 'style')
    .map((style) => textOf(style))
    .join('\n');

/** Where the shell ends and what it must hold, in {@link expectPicksStreamedAfterShell}. */
export interface StreamedShell {
  /** Markup of the shell's last part: the shell is every chunk up to the one holding it. */
  end: string;
  /** Markup the shell holds besides the picks' fallback. */
  contains: string;
  /** The picks' latency: the shell arrives before it, the picks after it. */
  picksLatencyMs: number;
}

/**
 * GETs `url` as a browser and expects the staff picks streamed after the shell: the shell (with
 * the picks' fallback) sent before the slow data exists, the picks once they exist, in the same
 * complete document, and every class the picks use with its rule in a `<style>` before them.
 */
export async function expectPicksStreamedAfterShell(
  url: string,
  shellPart: StreamedShell,
): Promise<void> {
  const { status, chunks } = await getTimed(url);
  expect(status).toBe(200);
  const body = chunks.map((chunk) => chunk.text).join('');
  expect(body.trimEnd()).toMatch(/<\/html>$/);
  const shellIndex = chunks.findIndex((chunk) => chunk.text.includes(shellPart.end));
  const picksIndex = chunks.findIndex((chunk) => chunk.text.includes(PICKS_MARKUP));
  expect(shellIndex).toBeGreaterThanOrEqual(0);
  expect(picksIndex).toBeGreaterThan(shellIndex);
  const shell = chunks
    .slice(0, shellIndex + 1)
    .map((chunk) => chunk.text)
    .join('');
  expect(shell).toContain(PICKS_LOADING_MARKUP);
  expect(shell).toContain(shellPart.contains);
  expect(shell).not.toContain(PICKS_MARKUP);
  // A buffered page could send nothing before the slow data exists.
  expect(chunks[shellIndex]!.at).toBeLessThan(shellPart.picksLatencyMs);
  expect(chunks[picksIndex]!.at).toBeGreaterThanOrEqual(shellPart.picksLatencyMs);

  const picksAt = body.indexOf(PICKS_MARKUP);
  const streamed = body.slice(picksAt, body.indexOf('</ul>', picksAt));
  const classes = [...streamed.matchAll(/class="([^"]+)"/g)].flatMap((m) => m[1]!.split(' '));
  expect(classes.length).toBeGreaterThan(0);
  const stylesBefore = styleText(`${body.slice(0, picksAt)}</body></html>`);
  for (const name of new Set(classes)) expect(stylesBefore).toContain(`.${name}{`);
}
