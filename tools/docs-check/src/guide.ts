/**
 * @module
 * Follows a guide as a reader would: its files and commands are read from the Markdown, never
 * copied into a test. A fence whose info string says `file=NAME` is a file the reader creates
 * (`app.tsx`, `tsconfig.json`); a shell fence marked `step=NAME` holds the commands of one step
 * (`install`, `build-dev`, `start`), one per line. Nothing else in the page is run.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './index';

const exec = promisify(execFile);

export interface Guide {
  /** The files the reader creates, by name. */
  files: Record<string, string>;
  /** The commands of each marked shell step, in order. */
  steps: Record<string, string[]>;
}

const anyFence = /^```(\w*)([^\n]*)\n([\s\S]*?)^```/gm;

/** The files (`file=NAME`) and marked shell steps (`step=NAME`) of a guide. */
export function readGuide(markdown: string, source = 'the guide'): Guide {
  const guide: Guide = { files: {}, steps: {} };
  for (const m of markdown.matchAll(anyFence)) {
    const info = m[2] ?? '';
    const body = m[3] ?? '';
    const line = markdown.slice(0, m.index).split('\n').length;
    const file = /\bfile=([\w.-]+)/.exec(info)?.[1];
    const step = /\bstep=([\w-]+)/.exec(info)?.[1];
    if (file) {
      if (file in guide.files) throw new Error(`${source}:${line}: a second block for ${file}`);
      guide.files[file] = body;
    }
    if (step) {
      if (!/^(sh|bash|shell|console)$/.test(m[1] ?? '')) {
        throw new Error(`${source}:${line}: step=${step} marks a block that is not shell`);
      }
      if (step in guide.steps)
        throw new Error(`${source}:${line}: a second block for step ${step}`);
      guide.steps[step] = body
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
    }
  }
  return guide;
}

/**
 * The version of a third-party package that the workspace's lockfile installed, read from the
 * first workspace folder that depends on it; `undefined` when none does.
 */
export function workspaceVersion(name: string): string | undefined {
  const bases = [
    'tools/docs-check',
    '.',
    'examples/express',
    'examples/app',
    'packages/apollo',
    'tools/test-utils',
  ];
  for (const base of bases) {
    const manifest = join(repoRoot, base, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).version;
  }
  return undefined;
}

/**
 * One `npm install` line of the guide as it runs in a test: `@kiln/*` packages come from the
 * packed tarballs, third-party packages are pinned to the workspace's versions (a new release
 * cannot break the test, and npm's cache answers), and npm's cache is preferred.
 */
export function installArgs(line: string, tarballs: Record<string, string>): string[] {
  const words = line.split(/\s+/);
  if (words[0] !== 'npm' || words[1] !== 'install') {
    throw new Error(
      `the install step runs \`${line}\`; only \`npm install ...\` lines are followed`,
    );
  }
  const args = words.slice(1).map((word) => {
    if (word.startsWith('-')) return word;
    if (/^@kiln\//.test(word)) {
      const tarball = tarballs[word];
      if (!tarball) throw new Error(`the guide installs ${word}, which is not a workspace package`);
      return tarball;
    }
    const version = workspaceVersion(word);
    return version ? `${word}@${version}` : word;
  });
  return [...args, '--prefer-offline', '--no-audit', '--no-fund'];
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await exec(cmd, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `\`${cmd} ${args.join(' ')}\` failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? e.message}`,
    );
  }
}

function requireStep(guide: Guide, step: string): string[] {
  const lines = guide.steps[step];
  if (!lines?.length) throw new Error(`the guide has no \`step=${step}\` shell block`);
  return lines;
}

/**
 * Does what the guide says in a fresh npm project at `dir` (outside the workspace): a
 * `package.json` of the given module type, the guide's files, its install lines (with the
 * tarballs) and the command of `buildStep`.
 */
export async function followGuide(
  guide: Guide,
  dir: string,
  type: 'commonjs' | 'module',
  tarballs: Record<string, string>,
  buildStep = 'build-dev',
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const install = requireStep(guide, 'install');
  const build = requireStep(guide, buildStep);
  // Kiln packages the guide does not install itself (dependencies such as @kiln/serialize)
  // come from their tarballs too, never from the registry.
  const named = new Set(install.flatMap((l) => l.split(/\s+/)));
  const overrides = Object.fromEntries(
    Object.entries(tarballs)
      .filter(([name]) => !named.has(name))
      .map(([name, tarball]) => [name, `file:${tarball}`]),
  );
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'guide-reader', version: '1.0.0', private: true, type, overrides }, null, 2)}\n`,
  );
  for (const [name, text] of Object.entries(guide.files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  for (const line of install) await run('npm', installArgs(line, tarballs), dir);
  for (const line of build) await run('sh', ['-c', line], dir);
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface GuideServer {
  url: string;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs the guide's `start` step in `dir` with `PORT` set, and resolves once the server prints
 * its `http://localhost:PORT` address. The command runs in its own process group, which `stop`
 * ends.
 */
export async function startGuideServer(guide: Guide, dir: string): Promise<GuideServer> {
  const [line, ...rest] = requireStep(guide, 'start');
  if (rest.length) throw new Error('the guide starts the server with more than one command');
  const port = await freePort();
  const child = spawn('sh', ['-c', `exec ${line}`], {
    cwd: dir,
    detached: true,
    env: { ...process.env, PORT: String(port), NODE_ENV: 'development', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = `http://localhost:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(url)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`\`${line}\` exited (${code}) before printing ${url}:\n${output}`)),
    );
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}
