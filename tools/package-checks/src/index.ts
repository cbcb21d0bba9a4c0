/**
 * @module
 * Checks on what the `@kiln/*` packages publish, not on their sources: each package is
 * packed with pnpm (so `publishConfig` applies exactly as on publish), then
 * - publint (strict) reads the tarball,
 * - @arethetypeswrong/cli reads the tarball,
 * - a consumer project outside the workspace installs the tarballs, type-checks a NodeNext
 *   file that imports every entry and every runtime export, and runs it as ESM and as CJS.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const exec = promisify(execFile);
export const repoRoot: string = resolve(import.meta.dirname, '../../..');

export interface PackageInfo {
  name: string;
  dir: string;
  /** Subpaths from `exports` that are code entries (`.`, `./client`). */
  entries: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

/** The publishable packages of the workspace (`packages/*`). */
export function listPackages(root: string = repoRoot): PackageInfo[] {
  const base = join(root, 'packages');
  return readdirSync(base)
    .map((d) => join(base, d))
    .filter((dir) => {
      try {
        readFileSync(join(dir, 'package.json'));
        return true;
      } catch {
        return false;
      }
    })
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return {
        name: pkg.name,
        dir,
        entries: Object.keys(pkg.exports).filter((k) => !k.endsWith('.json')),
        dependencies: pkg.dependencies ?? {},
        peerDependencies: pkg.peerDependencies ?? {},
      };
    });
}

async function run(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await exec(cmd, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

/** Packs a package directory with pnpm into `dest` and returns the tarball path. */
export async function pack(dir: string, dest: string): Promise<string> {
  mkdirSync(dest, { recursive: true });
  const before = new Set(readdirSync(dest));
  const r = await run('pnpm', ['pack', '--pack-destination', dest], dir);
  if (!r.ok) throw new Error(`pnpm pack failed in ${dir}:\n${r.output}`);
  const created = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (created.length !== 1)
    throw new Error(`pnpm pack in ${dir} produced ${created.length} tarballs`);
  return join(dest, created[0]!);
}

/** publint --strict on a tarball: every message is a failure. */
export async function publintTarball(tarball: string): Promise<string[]> {
  const buf = readFileSync(tarball);
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const { messages, pkg } = await publint({
    pack: { tarball: data },
    strict: true,
    level: 'suggestion',
  });
  return messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
}

/** @arethetypeswrong/cli on a tarball; `ok` is false when any problem is found. */
export async function attwTarball(tarball: string): Promise<{ ok: boolean; output: string }> {
  const bin = join(repoRoot, 'tools/package-checks/node_modules/.bin/attw');
  return run(bin, [tarball, '--format', 'ascii', '--no-emoji', '--no-color'], repoRoot);
}

export interface ConsumerResult {
  ok: boolean;
  step: 'install' | 'typecheck' | 'esm' | 'cjs' | 'render-esm' | 'render-cjs' | 'inert' | 'done';
  output: string;
  /** Runtime export names seen per entry, as ESM and as CJS. */
  exports?: { esm: Record<string, string[]>; cjs: Record<string, string[]> };
}

/**
 * Imports one entry in a fresh process (after its package's peer dependencies) and fails if
 * that added globals or left timers, sockets or other handles behind: importing a Kiln
 * package must run no code with effects.
 */
const inertProgram = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const spec = process.argv[2];
const name = spec.split('/').slice(0, 2).join('/');
const require = createRequire(import.meta.url);
const manifest = JSON.parse(readFileSync(require.resolve(name + '/package.json'), 'utf8'));
// Peers load first: their own import-time effects (tslib's helpers, @wry/context's Slot) are theirs.
for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
  try { await import(peer); } catch {}
}
await new Promise((r) => setImmediate(r));
const globalsBefore = new Set(Object.getOwnPropertyNames(globalThis));
const handlesBefore = process.getActiveResourcesInfo().length;
await import(spec);
await new Promise((r) => setImmediate(r));
const added = Object.getOwnPropertyNames(globalThis).filter((k) => !globalsBefore.has(k));
const handles = process.getActiveResourcesInfo().slice(handlesBefore).filter((h) => h !== 'Immediate');
if (added.length || handles.length) {
  console.error('importing ' + spec + ' has effects: globals ' + JSON.stringify(added) + ', handles ' + JSON.stringify(handles));
  process.exit(1);
}
`;

/**
 * The compiler errors that concern the consumer files or Kiln's own declarations. Errors inside
 * other packages' declarations (a dependency's own packaging bug, visible with `skipLibCheck`
 * off and a strict non-hoisted install) are not Kiln's to fix and are left out.
 */
export function errorsOutsideThirdParty(output: string): string[] {
  const errors: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    if (/^\s/.test(line) && errors.length) errors[errors.length - 1] += `\n${line}`;
    else errors.push(line);
  }
  return errors.filter((e) => !/^node_modules\/\.pnpm\/(?!@kiln\+)/.test(e));
}

/** The packages the consumer's render program uses; it runs when all of them are installed. */
const RENDER_PACKAGES = ['@kiln/core', '@kiln/apollo', '@kiln/emotion', '@kiln/cache'];

/**
 * A page rendered through every plugin, as ESM and as CJS: an Apollo query answered by a real
 * schema in process, an emotion rule, and the page cache (a miss, then a hit). It prints
 * `render ok` only when the HTML holds the data, the rule in the head and the Apollo state.
 */
const renderProgram = `import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { SchemaLink } from '@apollo/client/link/schema';
import { useQuery } from '@apollo/client/react';
import { css, jsx } from '@emotion/react';
import { apollo } from '@kiln/apollo';
import { memoryStore, pageCache } from '@kiln/cache';
import { renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { buildSchema } from 'graphql';
import { createElement } from 'react';

const schema = buildSchema('type Query { greeting: String! }');
const GREETING = gql\`query Greeting { greeting }\`;

function Page() {
  const { data } = useQuery<{ greeting: string }>(GREETING);
  return createElement(
    'html',
    null,
    createElement('head', null, createElement('title', null, 'Consumer')),
    createElement('body', null, jsx('h1', { css: css({ color: 'rgb(1, 2, 3)' }) }, data ? data.greeting : 'loading')),
  );
}

const plugins = () => [
  apollo({
    makeClient: () =>
      new ApolloClient({
        ssrMode: true,
        cache: new InMemoryCache(),
        link: new SchemaLink({ schema, rootValue: { greeting: 'Hello from the schema' } }),
      }),
  }),
  emotion(),
];

function check(label: string, status: number, html: string): void {
  const head = html.slice(0, html.indexOf('</head>'));
  const problems = [
    status === 200 ? '' : 'status ' + status,
    html.includes('<h1 class="css-') && html.includes('Hello from the schema</h1>') ? '' : 'no data in the page',
    /<style[^>]*data-emotion[^>]*>[^<]*color:rgb\\(1, 2, 3\\)/.test(head) ? '' : 'no emotion rule in the head',
    /<script type="application\\/json"[^>]*>[^<]*Hello from the schema/.test(html) ? '' : 'no Apollo state',
  ].filter(Boolean);
  if (problems.length) throw new Error(label + ': ' + problems.join(', ') + '\\n' + html);
}

async function main(): Promise<void> {
  const direct = await renderToHtml(createElement(Page), { mode: 'buffer', plugins: plugins() });
  check('renderToHtml', direct.status, await direct.text());
  const pages = pageCache({ store: memoryStore(), ttl: 60_000 });
  const states: string[] = [];
  for (let i = 0; i < 2; i++) {
    const result = await pages.render(createElement(Page), {
      request: new Request('http://localhost/'),
      mode: 'buffer',
      plugins: plugins(),
    });
    states.push(String(result.headers.get('x-kiln-cache')));
    check('page cache ' + i, result.status, await result.text());
    await pages.idle();
  }
  if (states.join(',') !== 'miss,hit') throw new Error('page cache: ' + states.join(','));
  console.log('render ok');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

/**
 * Installs tarballs into a fresh project outside the workspace, type-checks a NodeNext
 * file importing every entry (and every name in `expectedExports`), and runs it as ESM
 * and CJS. `peers` are installed from the registry (pnpm's store makes it quick).
 *
 * `checkDeclarations: false` skips type-checking the installed `.d.ts` files themselves
 * (`skipLibCheck`), which is most of the type-check's time; a missing or unresolvable
 * declaration still fails, in the consumer's own files. The full check stays on by default.
 */
export async function consumerTest(
  tarballs: Record<string, string>,
  entries: Record<string, string[]>,
  expectedExports: Record<string, string[]>,
  peers: Record<string, string>,
  { checkDeclarations = true }: { checkDeclarations?: boolean } = {},
): Promise<ConsumerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-consumer-'));
  const renders = RENDER_PACKAGES.every((name) => name in tarballs);
  const files = Object.fromEntries(Object.entries(tarballs).map(([n, t]) => [n, `file:${t}`]));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'kiln-consumer',
        private: true,
        dependencies: { ...files, ...peers },
        devDependencies: {
          typescript: '5.9.3',
          '@types/node': '^20.19.0',
          '@types/react': '^19.2.0',
          '@types/react-dom': '^19.2.0',
        },
        pnpm: { overrides: files },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        outDir: 'out',
        skipLibCheck: !checkDeclarations,
        types: ['node'],
        lib: ['es2023', 'dom'],
      },
      files: ['esm.mts', 'cjs.cts', ...(renders ? ['render-esm.mts', 'render-cjs.cts'] : [])],
    }),
  );
  const specifiers = Object.entries(entries).flatMap(([name, subs]) =>
    subs.map((s) => (s === '.' ? name : `${name}/${s.slice(2)}`)),
  );
  const body = specifiers
    .map((spec, i) => {
      const names = expectedExports[spec] ?? [];
      const named = names.length
        ? `import { ${names.map((n, j) => `${n} as n${i}_${j}`).join(', ')} } from '${spec}';\n`
        : '';
      return `${named}import * as m${i} from '${spec}';\nseen[${JSON.stringify(spec)}] = Object.keys(m${i}).sort();\n${names.length ? `void [${names.map((_, j) => `n${i}_${j}`).join(', ')}];\n` : ''}`;
    })
    .join('');
  const program = `const seen: Record<string, string[]> = {};\n${body}console.log(JSON.stringify(seen));\n`;
  writeFileSync(join(dir, 'esm.mts'), program);
  writeFileSync(join(dir, 'cjs.cts'), program);
  if (renders) {
    writeFileSync(join(dir, 'render-esm.mts'), renderProgram);
    writeFileSync(join(dir, 'render-cjs.cts'), renderProgram);
  }

  const install = await run(
    'pnpm',
    [
      'install',
      '--ignore-workspace',
      '--prefer-offline',
      '--config.auto-install-peers=true',
      '--config.strict-peer-dependencies=false',
      '--config.hoist=false',
    ],
    dir,
  );
  if (!install.ok) return { ok: false, step: 'install', output: install.output };
  const tsc = await run(join(dir, 'node_modules/.bin/tsc'), ['-p', '.'], dir);
  const ownErrors = tsc.ok ? [] : errorsOutsideThirdParty(tsc.output);
  if (ownErrors.length) return { ok: false, step: 'typecheck', output: ownErrors.join('\n') };
  const esm = await run(process.execPath, ['out/esm.mjs'], dir);
  if (!esm.ok) return { ok: false, step: 'esm', output: esm.output };
  const cjs = await run(process.execPath, ['out/cjs.cjs'], dir);
  if (!cjs.ok) return { ok: false, step: 'cjs', output: cjs.output };
  if (renders) {
    for (const kind of ['esm', 'cjs'] as const) {
      const file = kind === 'esm' ? 'out/render-esm.mjs' : 'out/render-cjs.cjs';
      const page = await run(process.execPath, [file], dir);
      if (!page.ok || !page.output.includes('render ok')) {
        return { ok: false, step: `render-${kind}`, output: page.output };
      }
    }
  }
  writeFileSync(join(dir, 'inert.mjs'), inertProgram);
  for (const spec of specifiers) {
    const inert = await run(process.execPath, ['inert.mjs', spec], dir);
    if (!inert.ok) return { ok: false, step: 'inert', output: `${spec}: ${inert.output}` };
  }
  return {
    ok: true,
    step: 'done',
    output: '',
    exports: {
      esm: JSON.parse(esm.output.trim().split('\n').pop()!),
      cjs: JSON.parse(cjs.output.trim().split('\n').pop()!),
    },
  };
}
