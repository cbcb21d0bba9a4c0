/**
 * @module
 * `pnpm bench [name…]`: runs the benchmarks `src/<name>.bench.ts` (all of them without
 * arguments, in alphabetical order), prints each one's Markdown table, and writes all tables
 * to `benchmarks/results/report.md`. A benchmark that throws is reported and the others still
 * run; the exit code is then 1.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine, quick, resultsDir } from './harness';

const srcDir = fileURLToPath(new URL('.', import.meta.url));
const suffix = '.bench.ts';

/** The names of the benchmark files in `src/`, sorted. */
export function benchmarkNames(): string[] {
  return readdirSync(srcDir)
    .filter((file) => file.endsWith(suffix))
    .map((file) => file.slice(0, -suffix.length))
    .sort();
}

/** Runs the named benchmarks (all when `names` is empty) and returns their tables. */
export async function runBenchmarks(
  names: readonly string[],
): Promise<{ tables: string[]; failed: string[] }> {
  const available = benchmarkNames();
  const unknown = names.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `[kiln/benchmarks] unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`,
    );
  }
  const selected = names.length > 0 ? [...names] : available;
  const tables: string[] = [];
  const failed: string[] = [];
  for (const name of selected) {
    const started = Date.now();
    process.stderr.write(`[bench] ${name}…\n`);
    try {
      const module = (await import(pathToFileURL(`${srcDir}${name}${suffix}`).href)) as {
        default: () => Promise<string>;
      };
      const table = await module.default();
      tables.push(table);
      process.stdout.write(`${table}\n\n`);
      process.stderr.write(
        `[bench] ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    } catch (error) {
      failed.push(name);
      process.stderr.write(`[bench] ${name} failed: ${(error as Error)?.stack ?? String(error)}\n`);
    }
  }
  return { tables, failed };
}

async function main(): Promise<void> {
  const { tables, failed } = await runBenchmarks(process.argv.slice(2));
  const info = machine();
  const header = [
    `Run ${new Date().toISOString()}${quick ? ' (BENCH_QUICK=1: figures mean nothing)' : ''}`,
    `on ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, Node ${info.node} (${info.platform}).`,
  ].join(' ');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(`${resultsDir}report.md`, `${header}\n\n${tables.join('\n\n')}\n`);
  if (failed.length > 0) {
    process.stderr.write(`[bench] failed: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
  // The rows that render with plain Apollo (the floors and the hand-rolled suspense page) leave
  // its suspense cache's 30 s auto-dispose timers behind (Kiln's rows release theirs); they
  // would hold the process open for nothing once every table is written.
  process.exit();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
