import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attwTarball,
  consumerTest,
  listPackages,
  type PackageInfo,
  pack,
  publintTarball,
} from '../src/index';

const packages = listPackages();
const work = mkdtempSync(join(tmpdir(), 'kiln-pack-'));
const tarballs: Record<string, string> = {};

/** Peer dependencies every consumer installs, at the versions the workspace tests. */
const peers: Record<string, string> = {
  react: '19.3.1',
  'react-dom': '19.3.1',
  '@apollo/client': '4.3.8',
  graphql: '16.15.0',
  rxjs: '7.8.2',
  '@emotion/react': '11.14.0',
  '@emotion/cache': '11.14.0',
};

function specifier(pkg: PackageInfo, entry: string): string {
  return entry === '.' ? pkg.name : `${pkg.name}/${entry.slice(2)}`;
}

/** Runtime export names of each entry, read from the sources (what the tarball must also export). */
async function sourceExports(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const pkg of packages) {
    for (const entry of pkg.entries) {
      const spec = specifier(pkg, entry);
      out[spec] = Object.keys(await import(/* @vite-ignore */ spec))
        .filter((k) => k !== 'default')
        .sort();
    }
  }
  return out;
}

function strip(names: string[]): string[] {
  return names.filter((n) => n !== 'default' && n !== '__esModule').sort();
}

/** Unpacks a tarball, lets `edit` change the package folder, and packs it again. */
function repack(tarball: string, name: string, edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  edit(join(dir, 'package'));
  const out = join(dir, `${name}.tgz`);
  execFileSync('tar', ['-czf', out, '-C', dir, 'package']);
  return out;
}

beforeAll(async () => {
  for (const pkg of packages) {
    if (!existsSync(join(pkg.dir, 'dist'))) {
      throw new Error(`${pkg.name} has no dist/: run \`pnpm build\` before the package checks.`);
    }
    tarballs[pkg.name] = await pack(pkg.dir, join(work, 'tarballs'));
  }
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('published packages', () => {
  it.each(packages.map((p) => [p.name, p] as const))('%s passes publint --strict', async (name) => {
    expect(await publintTarball(tarballs[name]!)).toEqual([]);
  });

  it.each(packages.map((p) => [p.name, p] as const))(
    '%s passes @arethetypeswrong/cli',
    async (name) => {
      const r = await attwTarball(tarballs[name]!);
      expect(r.ok, r.output).toBe(true);
    },
  );

  it('install into a NodeNext project, type-check, run as ESM and CJS, and render through every plugin', async () => {
    const expected = await sourceExports();
    const entries = Object.fromEntries(packages.map((p) => [p.name, p.entries]));
    const r = await consumerTest(tarballs, entries, expected, peers);
    expect(r.ok, `${r.step}: ${r.output}`).toBe(true);
    for (const [spec, names] of Object.entries(expected)) {
      expect(strip(r.exports!.esm[spec]!), `${spec} as ESM`).toEqual(names);
      expect(strip(r.exports!.cjs[spec]!), `${spec} as CJS`).toEqual(names);
    }
  });
});

// Each control breaks one thing and needs only the step that must catch it, so the four run at
// once and skip type-checking the installed declarations (the test above does that).
const controlOptions = { checkDeclarations: false };

/**
 * What a control installs: the broken tarball, the tarballs of the Kiln packages the victim
 * needs (dependencies and peers, transitively), and the peers those declare. Only the victim's
 * entries are imported, so the other packages and the render through every plugin would add
 * time and catch nothing.
 */
function victimAlone(
  victim: PackageInfo,
  broken: string,
): { tarballs: Record<string, string>; peers: Record<string, string> } {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const needed = new Set<string>();
  const visit = (name: string): void => {
    if (needed.has(name)) return;
    needed.add(name);
    const pkg = byName.get(name)!;
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      if (byName.has(dep)) visit(dep);
    }
  };
  visit(victim.name);
  const declared = new Set(
    [...needed].flatMap((name) => Object.keys(byName.get(name)!.peerDependencies)),
  );
  return {
    tarballs: Object.fromEntries(
      [...needed].map((name) => [name, name === victim.name ? broken : tarballs[name]!]),
    ),
    peers: Object.fromEntries(Object.entries(peers).filter(([name]) => declared.has(name))),
  };
}

describe.concurrent('the checks catch a broken package', () => {
  it('a control installs only the victim, the Kiln packages it needs and their peers', () => {
    const apollo = packages.find((p) => p.name === '@kiln/apollo')!;
    const { tarballs: installed, peers: installedPeers } = victimAlone(apollo, 'broken.tgz');
    expect(Object.keys(installed).sort()).toEqual([
      '@kiln/apollo',
      '@kiln/core',
      '@kiln/serialize',
    ]);
    expect(installed['@kiln/apollo']).toBe('broken.tgz');
    expect(Object.keys(installedPeers).sort()).toEqual([
      '@apollo/client',
      'graphql',
      'react',
      'react-dom',
      'rxjs',
    ]);
  });

  it('a missing CJS entry fails publint and the consumer test', async () => {
    const victim = packages[0]!;
    const broken = repack(tarballs[victim.name]!, 'no-client-cjs', (dir) => {
      rmSync(join(dir, 'dist/client.cjs'));
    });
    const lint = await publintTarball(broken);
    expect(lint.join('\n')).toMatch(/client\.cjs/);
    const alone = victimAlone(victim, broken);
    const r = await consumerTest(
      alone.tarballs,
      { [victim.name]: victim.entries },
      {},
      alone.peers,
      controlOptions,
    );
    expect(r.ok).toBe(false);
    expect(r.step).toBe('cjs');
  });

  it('a missing declaration file fails attw and the consumer type-check', async () => {
    const victim = packages[0]!;
    const broken = repack(tarballs[victim.name]!, 'no-client-dts', (dir) => {
      rmSync(join(dir, 'dist/client.d.ts'));
    });
    const attw = await attwTarball(broken);
    expect(attw.ok).toBe(false);
    expect(attw.output).toMatch(/client/);
    const alone = victimAlone(victim, broken);
    const r = await consumerTest(
      alone.tarballs,
      { [victim.name]: victim.entries },
      {},
      alone.peers,
      controlOptions,
    );
    expect(r.ok).toBe(false);
    expect(r.step).toBe('typecheck');
  });

  it('an entry whose import has effects fails the inert check', async () => {
    const victim = packages[0]!;
    const broken = repack(tarballs[victim.name]!, 'effects', (dir) => {
      const file = join(dir, 'dist/index.js');
      writeFileSync(file, `${readFileSync(file, 'utf8')}\nglobalThis.kilnLeak = true;\n`);
    });
    const alone = victimAlone(victim, broken);
    const r = await consumerTest(
      alone.tarballs,
      { [victim.name]: victim.entries },
      {},
      alone.peers,
      controlOptions,
    );
    expect(r.ok).toBe(false);
    expect(r.step).toBe('inert');
    expect(r.output).toContain('kilnLeak');
  });

  it('runtime dependencies missing from package.json fails the consumer test', async () => {
    const victim = packages.find((p) => {
      const deps = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')).dependencies ?? {};
      return Object.keys(deps).some((d) => !d.startsWith('@kiln/'));
    });
    expect(victim, 'some package has a third-party runtime dependency').toBeDefined();
    let dropped: string[] = [];
    const broken = repack(tarballs[victim!.name]!, 'no-dep', (dir) => {
      const file = join(dir, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      dropped = Object.keys(pkg.dependencies).filter((d) => !d.startsWith('@kiln/'));
      for (const d of dropped) delete pkg.dependencies[d];
      writeFileSync(file, JSON.stringify(pkg, null, 2));
    });
    const alone = victimAlone(victim!, broken);
    const r = await consumerTest(
      alone.tarballs,
      { [victim!.name]: victim!.entries },
      {},
      alone.peers,
      controlOptions,
    );
    expect(r.ok).toBe(false);
    expect(r.step).toBe('esm');
    expect(
      dropped.some((d) => r.output.includes(d)),
      r.output,
    ).toBe(true);
  });
});
