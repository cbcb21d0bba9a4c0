import { findAll, parseDocument, textOf } from '@kiln/test-utils';
import { expect } from 'vitest';
import type { PicksGate } from './gate';
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
  /** The server's picks gate: closed until the shell has arrived, so the picks cannot exist before it. */
  gate: PicksGate;
}

/**
 * How long the shell may take while the picks are held back. It only bounds a failure: a page
 * that sends nothing before its slow data would otherwise never answer while the gate is closed.
 */
const SHELL_WAIT_MS = 60_000;

/**
 * GETs `url` as a browser and expects the staff picks streamed after the shell: the shell (with
 * the picks' fallback) arrives while the picks are held back by the gate, the picks once the test
 * opens it, in the same complete document, and every class the picks use with its rule in a
 * `<style>` before them.
 */
export async function expectPicksStreamedAfterShell(
  url: string,
  shellPart: StreamedShell,
): Promise<void> {
  const { gate } = shellPart;
  let received = '';
  let shellIndex = -1;
  let chunkCount = 0;
  gate.close();
  // A buffered page sends nothing while the picks are held: give up on it after a while.
  let gaveUp = false;
  const giveUp = setTimeout(() => {
    gaveUp = true;
    gate.open();
  }, SHELL_WAIT_MS);
  let result: Awaited<ReturnType<typeof getTimed>>;
  try {
    result = await getTimed(url, (chunk) => {
      chunkCount++;
      received += chunk.text;
      if (shellIndex < 0 && !gaveUp && received.includes(shellPart.end)) {
        shellIndex = chunkCount - 1;
        // The picks do not exist yet: they can only follow the shell.
        gate.open();
      }
      return undefined;
    });
  } finally {
    clearTimeout(giveUp);
    gate.open();
  }
  const { status, chunks } = result;
  expect(status).toBe(200);
  const body = chunks.map((chunk) => chunk.text).join('');
  expect(body.trimEnd()).toMatch(/<\/html>$/);
  expect(
    shellIndex,
    'the shell did not arrive while the picks were held back',
  ).toBeGreaterThanOrEqual(0);
  const picksIndex = chunks.findIndex((chunk) => chunk.text.includes(PICKS_MARKUP));
  expect(picksIndex).toBeGreaterThan(shellIndex);
  const shell = chunks
    .slice(0, shellIndex + 1)
    .map((chunk) => chunk.text)
    .join('');
  expect(shell).toContain(PICKS_LOADING_MARKUP);
  expect(shell).toContain(shellPart.contains);
  expect(shell).not.toContain(PICKS_MARKUP);

  const picksAt = body.indexOf(PICKS_MARKUP);
  const streamed = body.slice(picksAt, body.indexOf('</ul>', picksAt));
  const classes = [...streamed.matchAll(/class="([^"]+)"/g)].flatMap((m) => m[1]!.split(' '));
  expect(classes.length).toBeGreaterThan(0);
  const stylesBefore = styleText(`${body.slice(0, picksAt)}</body></html>`);
  for (const name of new Set(classes)) expect(stylesBefore).toContain(`.${name}{`);
}
