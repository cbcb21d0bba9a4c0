/**
 * @module
 * The measuring harness shared by every `*.bench.ts` file.
 *
 * Machines here are shared and noisy, so no figure stands alone: every row is run in the same
 * process, interleaved with the others in a fresh random order each round, and reported as a
 * ratio to a baseline row measured in the same run. Wall time and CPU time (user + system,
 * from `process.cpuUsage`) are taken around each call; a row whose CPU time is far below its
 * wall time is waiting (on timers, I/O or other work), not computing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/**
 * True when `BENCH_QUICK=1`: every benchmark runs with tiny counts, only to prove that it works
 * (the CI smoke test). Figures from a quick run mean nothing.
 *
 * @example
 * ```ts
 * const rounds = quick ? 2 : 40;
 * ```
 */
export const quick: boolean = process.env.BENCH_QUICK === '1';

/** One measured row: a name and the work to time (one call = one sample). */
export interface Row {
  /** The row's label in the table; unique within one comparison. */
  name: string;
  /** The work to measure. Awaited when it returns a promise. */
  run: () => unknown;
}

/** Options of {@link compare}. */
export interface CompareOptions {
  /** The table's title. */
  title: string;
  /** The name of the row every ratio is taken against. */
  baseline: string;
  /** The rows to compare. */
  rows: Row[];
  /** Measured rounds; every row runs once per round. Default 30 (3 when {@link quick}). */
  rounds?: number;
  /** Unmeasured rounds first, to warm up the JIT and caches. Default 5 (1 when {@link quick}). */
  warmup?: number;
}

/** The figures of one row, in milliseconds. */
export interface RowStats {
  /** The row's name. */
  name: string;
  /** Number of measured samples. */
  samples: number;
  /** Median wall time. */
  medianMs: number;
  /** 90th percentile of wall time. */
  p90Ms: number;
  /** Median CPU time (user + system) of this process during one call. */
  cpuMedianMs: number;
  /** Median wall time divided by the baseline's median wall time. */
  ratio: number;
  /** Median CPU time divided by the baseline's median CPU time. */
  cpuRatio: number;
}

/**
 * Returns the value at quantile `q` (0…1) of `values`, by linear interpolation between the
 * two nearest ranks.
 *
 * @example
 * ```ts
 * quantile([1, 2, 3, 4], 0.5); // 2.5
 * ```
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const lowValue = sorted[low]!;
  return lowValue + (sorted[high]! - lowValue) * (position - low);
}

/**
 * Shuffles `items` in place (Fisher–Yates) and returns it.
 *
 * @example
 * ```ts
 * shuffle([1, 2, 3]); // e.g. [3, 1, 2]
 * ```
 */
export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
}

async function sample(row: Row): Promise<{ wall: number; cpu: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await row.run();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/**
 * Measures `rows` against each other. After `warmup` unmeasured rounds, every round runs each
 * row once in a freshly shuffled order, so that drift in the machine's speed (other processes,
 * thermal state, GC pressure built up by a previous row) falls on every row alike. When Node
 * runs with `--expose-gc`, a full collection happens before each round.
 *
 * @example
 * ```ts
 * const stats = await compare({
 *   title: 'JSON',
 *   baseline: 'stringify',
 *   rows: [
 *     { name: 'stringify', run: () => JSON.stringify(data) },
 *     { name: 'serialize', run: () => serialize(data) },
 *   ],
 * });
 * console.log(markdownTable('JSON', stats));
 * ```
 */
export async function compare(options: CompareOptions): Promise<RowStats[]> {
  const { title, baseline, rows } = options;
  const rounds = options.rounds ?? (quick ? 3 : 30);
  const warmup = options.warmup ?? (quick ? 1 : 5);
  const names = new Set(rows.map((row) => row.name));
  if (names.size !== rows.length) throw new Error(`[kiln/benchmarks] ${title}: row names repeat`);
  if (!names.has(baseline)) {
    throw new Error(`[kiln/benchmarks] ${title}: no row named "${baseline}" to use as baseline`);
  }
  for (let round = 0; round < warmup; round++) {
    for (const row of shuffle([...rows])) await row.run();
  }
  const wall = new Map<string, number[]>(rows.map((row) => [row.name, []]));
  const cpu = new Map<string, number[]>(rows.map((row) => [row.name, []]));
  for (let round = 0; round < rounds; round++) {
    collectGarbage();
    for (const row of shuffle([...rows])) {
      const measured = await sample(row);
      wall.get(row.name)!.push(measured.wall);
      cpu.get(row.name)!.push(measured.cpu);
    }
  }
  const baseWall = quantile(wall.get(baseline)!, 0.5);
  const baseCpu = quantile(cpu.get(baseline)!, 0.5);
  return rows.map((row) => {
    const walls = wall.get(row.name)!;
    const cpus = cpu.get(row.name)!;
    const medianMs = quantile(walls, 0.5);
    const cpuMedianMs = quantile(cpus, 0.5);
    return {
      name: row.name,
      samples: walls.length,
      medianMs,
      p90Ms: quantile(walls, 0.9),
      cpuMedianMs,
      ratio: medianMs / baseWall,
      cpuRatio: cpuMedianMs / baseCpu,
    };
  });
}

/**
 * Formats a number of milliseconds with a precision that suits its size.
 *
 * @example
 * ```ts
 * formatMs(0.01234); // '0.0123'
 * formatMs(41.26); // '41.3'
 * ```
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(3);
}

/**
 * Formats a ratio as `1.23×`.
 *
 * @example
 * ```ts
 * formatRatio(4.716); // '4.72×'
 * ```
 */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–';
}

/**
 * Renders the result of {@link compare} as a Markdown table (a `###` title, then one line per
 * row): median and p90 wall time, median CPU time, and both ratios to the baseline.
 *
 * @example
 * ```ts
 * console.log(markdownTable('Serializers', await compare(options)));
 * ```
 */
export function markdownTable(title: string, stats: readonly RowStats[]): string {
  const lines = [
    `### ${title}`,
    '',
    '| row | median ms | p90 ms | CPU ms (median) | × baseline (wall) | × baseline (CPU) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of stats) {
    lines.push(
      `| ${row.name} | ${formatMs(row.medianMs)} | ${formatMs(row.p90Ms)} | ${formatMs(row.cpuMedianMs)} | ${formatRatio(row.ratio)} | ${formatRatio(row.cpuRatio)} |`,
    );
  }
  lines.push(
    '',
    `<sub>${stats[0]?.samples ?? 0} samples per row${quick ? ' (quick run)' : ''}</sub>`,
  );
  return lines.join('\n');
}

/** The machine a run happened on, saved with every result. */
export interface MachineInfo {
  /** Node version. */
  node: string;
  /** `process.platform`/`process.arch`. */
  platform: string;
  /** CPU model. */
  cpu: string;
  /** Number of logical cores. */
  cores: number;
  /** Total memory in GiB. */
  memoryGiB: number;
}

/**
 * Describes the current machine.
 *
 * @example
 * ```ts
 * const { cpu, cores } = machine();
 * ```
 */
export function machine(): MachineInfo {
  const list = cpus();
  return {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** The folder results go to (`benchmarks/results/`, ignored by git). */
export const resultsDir: string = fileURLToPath(new URL('../results/', import.meta.url));

/**
 * Writes `data` as `benchmarks/results/<name>.json`, with the date, the machine and whether the
 * run was quick. Returns the file's path.
 *
 * @example
 * ```ts
 * saveResults('serialize', { stats });
 * ```
 */
export function saveResults(name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = `${resultsDir}${name}.json`;
  const record = { name, date: new Date().toISOString(), quick, machine: machine(), data };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}
