/**
 * @module
 * `pnpm bench:profile [row] [count]` (in `benchmarks/`): renders one pipeline of the page benchmark `count` times (default
 * 40) under the V8 CPU profiler, writes `results/<row>.cpuprofile` (open it in Chrome DevTools)
 * and prints where the time went: self time by package and the heaviest functions.
 *
 * Rows: `floor`, `data-then-render`, `hand-rolled`, `kiln-buffered`, `kiln-streamed`,
 * `kiln-buffered-suspense`, `kiln-streamed-suspense`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resultsDir } from './harness';
import {
  createSchema,
  renderDataThenRender,
  renderFloor,
  renderHandRolled,
  type ShopRequest,
  snapshot,
} from './shop/index';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which package (or `node`, `benchmarks`, `kiln/<pkg>`) a script URL belongs to. */
export function packageOf(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node';
  const kiln = /\/packages\/([^/]+)\/src\//.exec(url);
  if (kiln) return `@kiln/${kiln[1]}`;
  const modules = url.split('/node_modules/');
  if (modules.length > 1) {
    const rest = modules[modules.length - 1]!.split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes('/benchmarks/src/')) return 'benchmarks';
  return url;
}

/** Self time (ms) by package and by function of a V8 CPU profile. */
export function summarize(profile: CpuProfile): {
  total: number;
  byPackage: [string, number][];
  byFunction: [string, number][];
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    total += ms;
    const pkg = packageOf(frame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    const name = `${frame.functionName || '(anonymous)'} (${pkg}:${frame.lineNumber + 1})`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const sorted = (map: Map<string, number>): [string, number][] =>
    [...map].sort((a, b) => b[1] - a[1]);
  return { total, byPackage: sorted(packages), byFunction: sorted(functions) };
}

async function renderer(row: string, request: ShopRequest): Promise<() => Promise<unknown>> {
  switch (row) {
    case 'floor': {
      const data = await snapshot(request);
      return async () => renderFloor(request, data);
    }
    case 'data-then-render':
      return () => renderDataThenRender(request);
    case 'hand-rolled':
      return () => renderHandRolled(request);
    default: {
      const match = /^kiln-(buffered|streamed)(-suspense)?$/.exec(row);
      if (!match) throw new Error(`[kiln/benchmarks] unknown row ${row}`);
      const { kilnShopHtml } = await import('./kiln');
      const mode = match[1] === 'buffered' ? 'buffer' : 'stream';
      const variant = match[2] ? 'suspense' : 'query';
      return () => kilnShopHtml({ ...request, mode, variant });
    }
  }
}

async function main(): Promise<void> {
  const row = process.argv[2] ?? 'kiln-buffered';
  const count = Number(process.argv[3] ?? 40);
  const render = await renderer(row, { schema: createSchema({ latencyMs: 0 }), user: 'ada' });
  for (let i = 0; i < 5; i++) await render();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  for (let i = 0; i < count; i++) await render();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const file = `${resultsDir}${row}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  const { total, byPackage, byFunction } = summarize(profile as unknown as CpuProfile);
  const lines = [
    `${row}: ${(total / count).toFixed(1)} ms sampled per render (sampling runs on wall time: on a busy machine it includes time spent waiting for a CPU; compare shares) — ${file}`,
    '',
  ];
  lines.push('| package | self ms/render | share |', '| --- | ---: | ---: |');
  for (const [name, ms] of byPackage.slice(0, 12)) {
    lines.push(`| ${name} | ${(ms / count).toFixed(2)} | ${((ms / total) * 100).toFixed(1)}% |`);
  }
  lines.push('', '| function | self ms/render | share |', '| --- | ---: | ---: |');
  for (const [name, ms] of byFunction.slice(0, 15)) {
    lines.push(`| ${name} | ${(ms / count).toFixed(2)} | ${((ms / total) * 100).toFixed(1)}% |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1]?.endsWith('profile.ts')) await main();
