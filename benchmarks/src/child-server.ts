import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsDir } from './harness';

const tsconfigFile = fileURLToPath(new URL('../../tsconfig.base.json', import.meta.url));

/** Whether Node, loading a module in `dir`, finds the package of `specifier` in a `node_modules`. */
function installedNear(dir: string, specifier: string): boolean {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, 'node_modules', name, 'package.json'))) return true;
    if (dirname(current) === current) return false;
  }
}

/**
 * Bundles the server module `entry` with the Kiln packages' sources into one ES module under
 * `results/.server/` (one file per run and entry; the caller removes it), so that every server
 * process starts from plain JavaScript: no TypeScript loader in the measured process, and no
 * second of CPU per process to start one. Packages the benchmarks can resolve (React, Apollo,
 * emotion, Express…) stay external and load from `node_modules` as in any deployment.
 */
export async function bundleServer(entry: string): Promise<string> {
  const name = basename(entry).replace(/\.tsx?$/, '');
  const outfile = `${resultsDir}.server/${name}-${process.pid}.mjs`;
  // Loaded here: the server processes import this module and never bundle.
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@kiln/source'],
    tsconfig: tsconfigFile,
    logLevel: 'warning',
    plugins: [
      {
        name: 'external-dependencies',
        setup(context) {
          context.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('@kiln/') || args.path.startsWith('node:')) return undefined;
            return installedNear(dirname(outfile), args.path)
              ? { path: args.path, external: true }
              : undefined;
          });
        },
      },
    ],
  });
  return outfile;
}

/** A benchmark server running in its own child process on 127.0.0.1. */
export interface ChildServer {
  origin: string;
  /** Disconnects the child (it closes and exits) and waits for it; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export interface ForkServerOptions {
  /** Names the server in errors (`server streamed`, `cache server redis`). */
  label: string;
  args?: string[];
  execArgv?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Forks `file` and resolves once the child reports `{ port }` over IPC, or rejects when it
 * exits first or does not start within 60 s.
 */
export function forkServer(file: string, options: ForkServerOptions): Promise<ChildServer> {
  const child: ChildProcess = fork(file, options.args ?? [], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    execArgv: options.execArgv ?? [],
    env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production', ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
  };
  return new Promise<ChildServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`[kiln/benchmarks] ${options.label} did not start within 60 s`));
    }, 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      const { port } = message as { port: number };
      resolve({ origin: `http://127.0.0.1:${port}`, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`[kiln/benchmarks] ${options.label} exited with code ${code} before listening`),
      );
    });
  });
}

/** The CPU time (user + system, ms) a server process reports at `/__cpu` (see `benchApp`). */
export async function serverCpuMs(origin: string): Promise<number> {
  const usage = (await (await fetch(`${origin}/__cpu`)).json()) as {
    user: number;
    system: number;
  };
  return (usage.user + usage.system) / 1000;
}
