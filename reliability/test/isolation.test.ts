/**
 * Visitors never see each other's data, even when their pages render at the same time. The
 * Express example server answers 200 concurrent requests from 20 signed-in visitors (10 each,
 * interleaved, half streamed to a browser and half buffered for a crawler) while its staff
 * picks arrive late, so streamed pages are still open when other visitors' renders run. Every
 * page carries its own visitor's greeting, header colour (CSS), and Apollo state, and no other
 * visitor's name; every `<script>` and `<style>` carries the nonce of its own response's CSP
 * header, and no two responses share a nonce.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient } from '@kiln/example-app/build';
import { CHROME_UA, GOOGLEBOT_UA } from '@kiln/example-app/test-support';
import { startServer } from '@kiln/example-express';
import { parse } from '@kiln/serialize';
import { attr, type Element, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The example's own colour function (not part of its package exports).
import { visitorHue } from '../../examples/app/src/app/format';

const VISITORS = 20;
const REQUESTS_PER_VISITOR = 10;

/**
 * `count` visitor names of the same length (so none is a substring of another) whose header
 * hues differ from each other and from a guest's, so a leaked rule names its visitor.
 */
function visitorNames(count: number): string[] {
  const names: string[] = [];
  const hues = new Set([visitorHue(null)]);
  for (let n = 0; names.length < count; n++) {
    const name = `Visitor${String(n).padStart(3, '0')}q`;
    const hue = visitorHue(name);
    if (hues.has(hue)) continue;
    hues.add(hue);
    names.push(name);
  }
  return names;
}

/** The hues of the visitor header rule (`Bar` in the example's Layout) in a page's CSS. */
function headerHues(css: string): number[] {
  const rule = /background:hsl\((\d+) 55% 30%\);border-bottom:4px solid hsl\(\1 70% 55%\)/g;
  return [...css.matchAll(rule)].map((match) => Number(match[1]));
}

/** The viewer names in a page's Apollo data: the buffered cache, or every streamed result. */
function viewerNames(scripts: Element[], streamed: boolean): unknown[] {
  const names: unknown[] = [];
  if (!streamed) {
    const state = scripts.filter((s) => attr(s, 'data-kiln-state') === 'apollo');
    expect(state).toHaveLength(1);
    const { cache } = parse(textOf(state[0]!)) as {
      cache: { ROOT_QUERY?: { viewer?: { name?: unknown } } };
    };
    names.push(cache.ROOT_QUERY?.viewer?.name);
    return names;
  }
  const push = /^\(self\.__kilnApollo_apollo=self\.__kilnApollo_apollo\|\|\[\]\)\.push\((".*")\)$/s;
  const chunks = scripts.map((s) => push.exec(textOf(s))?.[1]).filter((c) => c !== undefined);
  // The shell's data and the late picks, each in its own script.
  expect(chunks.length).toBeGreaterThanOrEqual(2);
  for (const literal of chunks) {
    const chunk = parse(JSON.parse(literal) as string) as { w?: [number, unknown, unknown][] };
    for (const [, , result] of chunk.w ?? []) {
      const viewer = (result as { viewer?: { name?: unknown } }).viewer;
      if (viewer) names.push(viewer.name);
    }
  }
  return names;
}

interface Fetched {
  visitor: string;
  streamed: boolean;
  status: number;
  csp: string;
  html: string;
}

describe('visitor isolation under load', () => {
  let assetsDir: string;
  let server: Awaited<ReturnType<typeof startServer>>;
  const renderErrors: unknown[] = [];

  beforeAll(async () => {
    assetsDir = await mkdtemp(join(tmpdir(), 'kiln-isolation-'));
    await buildClient({ outDir: assetsDir });
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      assetsDir,
      // Late enough that every streamed page is still open while other renders run.
      picksLatencyMs: 50,
      onError: (error) => renderErrors.push(error),
    });
  });

  afterAll(async () => {
    await server?.close();
    if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  });

  it(`${VISITORS} visitors × ${REQUESTS_PER_VISITOR} concurrent requests: each page holds only its own visitor's data`, async () => {
    const names = visitorNames(VISITORS);
    const requests = Array.from({ length: VISITORS * REQUESTS_PER_VISITOR }, (_, i) => ({
      visitor: names[i % VISITORS]!,
      // Each visitor gets five streamed and five buffered pages, interleaved with the others'.
      streamed: Math.floor(i / VISITORS) % 2 === 0,
    }));
    const pages: Fetched[] = await Promise.all(
      requests.map(async ({ visitor, streamed }) => {
        const response = await fetch(server.url, {
          headers: {
            cookie: `kiln_visitor=${visitor}`,
            'user-agent': streamed ? CHROME_UA : GOOGLEBOT_UA,
          },
        });
        return {
          visitor,
          streamed,
          status: response.status,
          csp: response.headers.get('content-security-policy') ?? '',
          html: await response.text(),
        };
      }),
    );
    expect(renderErrors).toEqual([]);

    const nonces = new Set<string>();
    for (const page of pages) {
      const { visitor, html } = page;
      const label = `${visitor} (${page.streamed ? 'streamed' : 'buffered'})`;
      expect(page.status, label).toBe(200);
      const doc = parseDocument(html);

      // The mode really differs: a streamed page sent the picks late, a buffered one inline.
      if (page.streamed) expect(html, label).toContain('data-testid="picks-loading"');
      else expect(html, label).not.toContain('picks-loading');
      expect(html, label).toContain('data-testid="picks"');

      // The greeting, and no other visitor's name anywhere.
      expect(html, label).toContain(`Welcome back, <strong>${visitor}</strong>`);
      expect(
        names.filter((other) => other !== visitor && html.includes(other)),
        label,
      ).toEqual([]);

      // The CSS: exactly one header rule, in this visitor's colour.
      const css = findAll(doc, 'style').map(textOf).join('\n');
      expect(headerHues(css), label).toEqual([visitorHue(visitor)]);

      // The serialized Apollo data names this visitor as the viewer, and no one else.
      const scripts = findAll(doc, 'script');
      const viewers = viewerNames(scripts, page.streamed);
      expect(viewers.length, label).toBeGreaterThan(0);
      expect(new Set(viewers), label).toEqual(new Set([visitor]));

      // Every script and style carries this response's nonce, the one its CSP header allows.
      const nonce = /script-src 'nonce-([^']+)'/.exec(page.csp)?.[1];
      expect(nonce, label).toBeDefined();
      expect(page.csp, label).toContain(`style-src 'nonce-${nonce}'`);
      const tagged = [...scripts, ...findAll(doc, 'style')];
      expect(tagged.length, label).toBeGreaterThan(0);
      for (const element of tagged) expect(attr(element, 'nonce'), label).toBe(nonce);
      const anyNonce = (node: Element): string[] => [
        ...(attr(node, 'nonce') !== undefined ? [attr(node, 'nonce')!] : []),
        ...(node.childNodes ?? []).flatMap(anyNonce),
      ];
      expect(new Set(anyNonce(doc)), label).toEqual(new Set([nonce]));
      nonces.add(nonce!);
    }
    expect(nonces.size).toBe(pages.length);
  });
});
