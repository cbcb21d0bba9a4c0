/**
 * docs/getting-started.md, followed literally: its files and commands are read from the page
 * (see `src/guide.ts`), installed from the packed tarballs into fresh npm projects outside the
 * workspace (CommonJS and ES modules), bundled with the guide's development build command and
 * started with its start command. Chromium then loads the page the way a visitor's browser does.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPackages, pack } from '@kiln/package-checks';
import { type BrowserSession, launchChromium } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followGuide, type Guide, installArgs, readGuide, startGuideServer } from '../src/guide';
import { repoRoot } from '../src/index';

const guidePath = join(repoRoot, 'docs/getting-started.md');
const guide = readGuide(readFileSync(guidePath, 'utf8'), 'docs/getting-started.md');
const work = mkdtempSync(join(tmpdir(), 'kiln-guide-'));
const types = ['commonjs', 'module'] as const;

/** An ordinary desktop Chrome: a visitor's browser, which gets the streamed page. */
const userAgent =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

/** The sign-in of the guide's sample API (step 2): the cookie `session=demo` is Ada. */
const session = { name: 'session', value: 'demo' };
const visitor = 'Ada';

let browser: BrowserSession;
const ready = new Map<string, Promise<void>>();

beforeAll(async () => {
  const tarballs: Record<string, string> = {};
  for (const pkg of listPackages()) {
    if (!existsSync(join(pkg.dir, 'dist'))) {
      throw new Error(`${pkg.name} has no dist/: run \`pnpm build\` before the docs checks.`);
    }
    tarballs[pkg.name] = await pack(pkg.dir, join(work, 'tarballs'));
  }
  // Both projects install at once (npm's cache is shared and safe for that); each test awaits
  // its own, so a failure is reported by the test of that module type.
  for (const type of types) {
    const project = followGuide(guide, join(work, type), type, tarballs);
    project.catch(() => {});
    ready.set(type, project);
  }
  browser = await launchChromium();
  // Packing every package is slow on a loaded machine; the bound only decides how long a
  // broken pack takes to show.
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(ready.values());
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('docs/getting-started.md as written', () => {
  it('has the files and steps the test follows', () => {
    expect(Object.keys(guide.files)).toEqual(
      expect.arrayContaining(['tsconfig.json', 'app.tsx', 'server.tsx', 'client.tsx']),
    );
    for (const step of ['install', 'build-dev', 'build', 'start']) {
      expect(guide.steps[step], `step=${step}`).toBeDefined();
    }
    // The development build keeps React's development checks (the production one minifies).
    expect(guide.steps['build-dev']!.join(' ')).not.toContain('--minify');
  });

  it.each(types)(
    'with "type": "%s": the page hydrates without a warning or a GraphQL request, greets the signed-in visitor and reacts to a click',
    async (type) => {
      const dir = join(work, type);
      await ready.get(type);
      const bundle = readFileSync(join(dir, 'dist/client/client.js'), 'utf8');
      // React's development build: the one that reports hydration mismatches in the console.
      expect(bundle).toContain('react-dom-client.development');

      const server = await startGuideServer(guide, dir);
      const context = await browser.context({ userAgent });
      try {
        await context.addCookies([{ ...session, url: server.url }]);
        const page = await context.newPage();
        const problems: string[] = [];
        const graphql: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning')
            problems.push(`${m.type()}: ${m.text()} (${m.location().url})`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (r) => {
          if (new URL(r.url()).pathname.startsWith('/graphql')) graphql.push(r.url());
        });

        const response = await page.goto(server.url);
        expect(response?.status()).toBe(200);
        expect(response?.headers()['content-type']).toContain('text/html');
        // Streamed to a browser (no content-length), rendered with the visitor's data.
        expect(response?.headers()['content-length']).toBeUndefined();
        expect(await page.locator('h1').textContent()).toContain(visitor);

        // A click changes state only once React has hydrated the page: the poll clicks until
        // it does (a click before the bundle ran is lost, as for a real visitor).
        const button = page.getByRole('button');
        const before = await button.textContent();
        await expect
          .poll(async () => {
            await button.click();
            return button.textContent();
          })
          .not.toBe(before);

        expect(await page.locator('h1').textContent()).toContain(visitor);
        expect(problems, 'console errors and warnings').toEqual([]);
        expect(graphql, 'GraphQL requests from the browser').toEqual([]);
        expect(server.output()).not.toMatch(/error/i);
      } finally {
        await context.close();
        await server.stop();
      }
    },
  );
});

describe('reading a guide', () => {
  const md = [
    '```sh step=install',
    'npm install @kiln/core react',
    '# a comment',
    'npm install -D tsx',
    '```',
    '```tsx file=app.tsx',
    'export {};',
    '```',
    '```json file=tsconfig.json',
    '{}',
    '```',
    '```tsx',
    'not a file',
    '```',
  ].join('\n');

  it('takes files from file= fences and commands from step= shell fences', () => {
    const g: Guide = readGuide(md);
    expect(g.files).toEqual({ 'app.tsx': 'export {};\n', 'tsconfig.json': '{}\n' });
    expect(g.steps).toEqual({ install: ['npm install @kiln/core react', 'npm install -D tsx'] });
  });

  it('rejects a step that is not shell and a file given twice', () => {
    expect(() => readGuide('```ts step=install\nx\n```\n')).toThrow(/not shell/);
    expect(() => readGuide('```ts file=a.ts\n```\n```ts file=a.ts\n```\n')).toThrow(/second/);
  });

  it('installs Kiln from the tarballs and third-party packages at the workspace versions', () => {
    const args = installArgs('npm install @kiln/core react -D', { '@kiln/core': '/t/core.tgz' });
    const react = JSON.parse(
      readFileSync(join(repoRoot, 'tools/docs-check/node_modules/react/package.json'), 'utf8'),
    ).version;
    expect(args.slice(0, 4)).toEqual(['install', '/t/core.tgz', `react@${react}`, '-D']);
    expect(() => installArgs('npm install @kiln/nope', {})).toThrow(/not a workspace package/);
  });
});
