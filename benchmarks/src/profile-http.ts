/**
 * @module
 * `pnpm --filter @kiln/benchmarks bench:profile-http [kind] [seconds]`: starts one server of the
 * HTTP benchmark (`kiln-streamed` by default) under `node --cpu-prof`, warms it up, loads it with
 * autocannon (10 connections, `seconds`, default 15), stops it, and prints where its CPU time
 * went while loaded and idle alike (self time by package and the heaviest functions). The
 * profile is written to `results/http-<kind>.cpuprofile` (open it in Chrome DevTools).
 */
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import autocannon from 'autocannon';
import { bundleServer, forkServer } from './child-server';
import { resultsDir } from './harness';
import { SERVER_KINDS, type ServerKind } from './http/server';
import { serverSource } from './http.bench';
import { summarize } from './profile';

async function loadFor(origin: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${origin}/`,
    connections: 10,
    duration: seconds,
    timeout: 60,
    headers: { cookie: 'user=ada' },
  });
}

async function main(): Promise<void> {
  const kind = (process.argv[2] ?? 'kiln-streamed') as ServerKind;
  if (!SERVER_KINDS.includes(kind)) {
    throw new Error(
      `[kiln/benchmarks] unknown server ${kind}; use one of ${SERVER_KINDS.join(', ')}`,
    );
  }
  const seconds = Number(process.argv[3] ?? 15);
  const dir = `${resultsDir}.profile-${process.pid}/`;
  const serverFile = await bundleServer(serverSource);
  try {
    const server = await forkServer(serverFile, {
      label: `server ${kind}`,
      args: [kind],
      execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'],
    });
    let result: autocannon.Result;
    try {
      await loadFor(server.origin, 3);
      result = await loadFor(server.origin, seconds);
    } finally {
      await server.stop();
    }
    const written = readdirSync(dir).find((file) => file.endsWith('.cpuprofile'));
    if (!written) throw new Error(`[kiln/benchmarks] no CPU profile was written in ${dir}`);
    const file = `${resultsDir}http-${kind}.cpuprofile`;
    renameSync(`${dir}${written}`, file);
    const { total, byPackage, byFunction } = summarize(JSON.parse(readFileSync(file, 'utf8')));
    const lines = [
      `${kind}: ${result.requests.total} requests in ${seconds} s under load (after a 3 s warm-up), ${total.toFixed(0)} ms sampled over the process's life — ${file}`,
      '',
      '| package | self ms | share |',
      '| --- | ---: | ---: |',
      ...byPackage
        .slice(0, 14)
        .map(
          ([name, ms]) => `| ${name} | ${ms.toFixed(0)} | ${((ms / total) * 100).toFixed(1)}% |`,
        ),
      '',
      '| function | self ms | share |',
      '| --- | ---: | ---: |',
      ...byFunction
        .slice(0, 25)
        .map(
          ([name, ms]) => `| ${name} | ${ms.toFixed(0)} | ${((ms / total) * 100).toFixed(1)}% |`,
        ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(serverFile, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

// esbuild's service (the server bundle) would keep the process alive.
await main();
process.exit(0);
