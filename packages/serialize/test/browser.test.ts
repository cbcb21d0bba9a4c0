import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { stateScript } from '@kiln/serialize';
import { type BrowserSession, type Listening, launchChromium, listen } from '@kiln/test-utils';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NONCE = 'dGVzdC1ub25jZQ==';
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** The client entry bundled for the browser, the way an app's bundler would. */
async function bundleClient(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `import { parse, readState, KilnSerializeError } from '@kiln/serialize/client';
        window.kiln = { parse, readState, KilnSerializeError };`,
      resolveDir: packageDir,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@kiln/source'],
  });
  return result.outputFiles[0]!.text;
}

function richValue(): Record<string, unknown> {
  const value: Record<string, unknown> = {
    when: new Date(Date.UTC(2026, 0, 2)),
    prices: new Map([['cup', new Set([12n, 2n ** 70n])]]),
    text: '</script><script>window.hacked = 1</script><!--<script>\u2028',
    missing: undefined,
    numbers: [Number.NaN, -0, Number.POSITIVE_INFINITY],
    pattern: /<\/script>/gi,
    link: new URL('https://example.test/?q=<x>'),
    bytes: new Uint8Array([1, 2, 255]),
    error: new TypeError('bad </script>'),
  };
  value.self = value;
  return value;
}

/** Summarises in the page what readState returned, so the test can check the revived types. */
const DESCRIBE = `window.describeState = (v) => v === undefined ? 'undefined' : JSON.stringify({
  when: v.when instanceof Date ? v.when.toISOString() : 'not a date',
  prices: v.prices instanceof Map ? [...v.prices.get('cup')].map((n) => typeof n + ':' + String(n)) : 'not a map',
  text: v.text,
  missing: 'missing' in v && v.missing === undefined,
  numbers: v.numbers.map((n) => Object.is(n, -0) ? '-0' : String(n)),
  pattern: v.pattern instanceof RegExp ? String(v.pattern) : 'not a regexp',
  link: v.link instanceof URL ? v.link.href : 'not a url',
  bytes: v.bytes instanceof Uint8Array ? [...v.bytes] : 'not bytes',
  error: v.error instanceof TypeError ? v.error.message : 'not an error',
  cycle: v.self === v,
});`;

const EXPECTED = {
  when: '2026-01-02T00:00:00.000Z',
  prices: ['bigint:12', `bigint:${2n ** 70n}`],
  text: '</script><script>window.hacked = 1</script><!--<script>\u2028',
  missing: true,
  numbers: ['NaN', '-0', 'Infinity'],
  pattern: '/<\\/script>/gi',
  link: 'https://example.test/?q=%3Cx%3E',
  bytes: [1, 2, 255],
  error: 'bad </script>',
  cycle: true,
};

describe('readState in Chromium', () => {
  let browser: BrowserSession;
  let server: Listening;

  beforeAll(async () => {
    const bundle = await bundleClient();
    browser = await launchChromium();
    server = await listen((req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'none'; script-src 'nonce-${NONCE}'`,
      });
      const late = stateScript('late', { list: [1, 2, 3], at: new Date(7) }, { nonce: NONCE });
      const cut = late.indexOf('[') + 3;
      res.write(
        `<!doctype html><html><head><meta charset="utf-8"><title>state</title>` +
          `<script nonce="${NONCE}">window.violations = [];` +
          `document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective));` +
          `${bundle}\n${DESCRIBE}</script></head><body><div id="root">app</div>` +
          stateScript('early', richValue(), { nonce: NONCE }) +
          `<script nonce="${NONCE}">` +
          `window.during = { early: describeState(kiln.readState('early')), late: kiln.readState('late'), readyState: document.readyState };` +
          `window.polls = []; window.timer = setInterval(() => { try { window.polls.push(kiln.readState('late') === undefined ? 'undefined' : 'value'); } catch (e) { window.polls.push('error: ' + e.message); } }, 5);` +
          `</script>` +
          late.slice(0, cut),
      );
      setTimeout(() => {
        res.end(`${late.slice(cut)}<p>end</p></body></html>`);
      }, 400);
      void req;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('reads rich state while the document streams in and after it ends, under a strict CSP', async () => {
    const context = await browser.context();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/`, { waitUntil: 'load' });
    const result = await page.evaluate(() => {
      const w = window as unknown as {
        kiln: {
          readState: (key: string, options?: unknown) => unknown;
          parse: (text: string) => unknown;
          KilnSerializeError: new (...args: never[]) => Error;
        };
        during: { early: string; late: unknown; readyState: string };
        polls: string[];
        timer: number;
        violations: string[];
        describeState: (v: unknown) => string;
        hacked?: number;
      };
      clearInterval(w.timer);
      const late = w.kiln.readState('late') as { list: number[]; at: Date };
      let invalidKey = '';
      try {
        w.kiln.readState('bad key');
      } catch (error) {
        invalidKey =
          error instanceof w.kiln.KilnSerializeError
            ? (error as Error & { code: string }).code
            : 'other';
      }
      return {
        during: w.during,
        after: w.describeState(w.kiln.readState('early')),
        late: { list: late.list, at: late.at instanceof Date ? late.at.getTime() : null },
        missing: w.kiln.readState('nothing-here'),
        polls: w.polls,
        violations: w.violations,
        hacked: w.hacked ?? null,
        scripts: document.querySelectorAll('script').length,
        invalidKey,
      };
    });
    await context.close();

    expect(errors).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.hacked).toBeNull();
    expect(result.scripts).toBe(4);
    expect(result.during.readyState).toBe('loading');
    expect(JSON.parse(result.during.early)).toEqual(EXPECTED);
    expect(result.during.late).toBeUndefined();
    expect(JSON.parse(result.after)).toEqual(EXPECTED);
    expect(result.late).toEqual({ list: [1, 2, 3], at: 7 });
    expect(result.missing).toBeUndefined();
    expect(result.polls).toContain('value');
    expect(result.polls.filter((p) => p.startsWith('error'))).toEqual([]);
    expect(result.invalidKey).toBe('INVALID_KEY');
  });
});
