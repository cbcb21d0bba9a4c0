import { Writable } from 'node:stream';
import type { EmotionCache } from '@emotion/cache';
import { CacheProvider } from '@emotion/react';
import createEmotionServer from '@emotion/server/create-instance';
import { renderToHtml } from '@kiln/core';
import { renderToString } from 'react-dom/server';
import { emotion } from '../../src/index';
import { cssRules } from '../css';
import type { UpstreamCase } from './cases';
import { type RenderMode, Tree } from './tree';

/** The nonce of Kiln's renders for cases whose cache has none. */
export const KILN_NONCE = 'k1ln-n0nce';

/** One `<style>` element of a document, where it starts. */
export interface StyleElement {
  at: number;
  dataEmotion: string | undefined;
  nonce: string | undefined;
  css: string;
}

const attribute = (attributes: string, name: string) =>
  new RegExp(`\\s${name}="([^"]*)"`).exec(attributes)?.[1]?.replace(/&quot;/g, '"');

/** The `<style>` elements of HTML written by Kiln (whose CSS never holds `</style`). */
export function styleElements(html: string): StyleElement[] {
  return [...html.matchAll(/<style([^>]*)>([\s\S]*?)<\/style>/g)].map((match) => ({
    at: match.index,
    dataEmotion: attribute(match[1]!, 'data-emotion'),
    nonce: attribute(match[1]!, 'nonce'),
    css: match[2]!.replace(/<\\\/(style)/gi, '</$1'),
  }));
}

/**
 * Renders a case through Kiln: buffered, streamed, or streamed with every part behind its own
 * Suspense boundary that resolves after the shell, one after the other: part i+1 is released
 * when the HTML of part i has been written, so each part is its own React batch.
 */
export async function renderWithKiln(
  c: UpstreamCase,
  mode: RenderMode,
  bootstrapModules: string[] = [],
): Promise<{ html: string; cache: EmotionCache; cssGlobals: Set<string>; errors: unknown[] }> {
  const errors: unknown[] = [];
  const built = c.build();
  const releases: (() => void)[] = [];
  const gates = built.parts.map(
    () =>
      new Promise<void>((resolve) => {
        releases.push(resolve);
      }),
  );
  const result = await renderToHtml(<Tree mode={mode} parts={built.parts} gates={gates} />, {
    mode: mode === 'buffer' ? 'buffer' : 'stream',
    ...(c.cacheNonce ? {} : { nonce: KILN_NONCE }),
    plugins: [emotion({ key: c.key, cache: () => built.cache })],
    bootstrapModules,
    onError: (error) => errors.push(error),
  });
  let html = '';
  let released = 0;
  const release = () => {
    while (
      released < releases.length &&
      (released === 0 || html.includes(`data-part="${released - 1}"`))
    ) {
      releases[released++]!();
    }
  };
  await new Promise<void>((resolve, reject) => {
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        html += String(chunk);
        if (mode === 'late') release();
        callback();
      },
    });
    sink.on('finish', resolve);
    sink.on('error', reject);
    result.pipe(sink);
    if (mode === 'late') release();
  });
  return { html, cache: built.cache, cssGlobals: built.cssGlobals ?? new Set(), errors };
}

/** emotion's own output for the same tree: `extractCritical` of `renderToString`, and every rule inserted. */
export function renderWithEmotion(c: UpstreamCase): {
  critical: string[];
  inserted: string[];
  html: string;
} {
  const built = c.build();
  // Switches the cache to extraction before rendering, as emotion's "old api" tests do.
  const server = createEmotionServer(built.cache);
  const markup = renderToString(<CacheProvider value={built.cache}>{built.parts}</CacheProvider>);
  const { css } = server.extractCritical(markup);
  const inserted = Object.values(built.cache.inserted).filter(
    (value): value is string => typeof value === 'string',
  );
  return {
    critical: cssRules(css),
    inserted: inserted.flatMap(cssRules),
    html: server.renderStylesToString(markup),
  };
}
