import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  compare,
  formatMs,
  formatRatio,
  markdownTable,
  quantile,
  saveResults,
} from '../src/harness';

function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

describe('quantile', () => {
  it('interpolates between ranks and ignores input order', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([10], 0.9)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('compare', () => {
  it('runs every row once per round, in changing orders, after the warm-up', async () => {
    const calls: string[] = [];
    const rows = ['a', 'b', 'c', 'd'].map((name) => ({ name, run: () => void calls.push(name) }));
    const stats = await compare({ title: 't', baseline: 'a', rows, rounds: 20, warmup: 2 });
    expect(calls).toHaveLength(4 * 22);
    const rounds: string[] = [];
    for (let i = 0; i < calls.length; i += 4) {
      expect(new Set(calls.slice(i, i + 4)).size).toBe(4);
      rounds.push(calls.slice(i, i + 4).join(''));
    }
    expect(new Set(rounds).size).toBeGreaterThan(1);
    expect(stats.map((row) => row.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(stats.every((row) => row.samples === 20)).toBe(true);
  });

  it('takes ratios to the baseline and tells CPU time from waiting', async () => {
    const stats = await compare({
      title: 'cpu vs wait',
      baseline: 'wait',
      rows: [
        { name: 'wait', run: () => sleep(15) },
        { name: 'burn', run: () => burnCpu(15) },
      ],
      rounds: 5,
      warmup: 1,
    });
    const wait = stats.find((row) => row.name === 'wait')!;
    const burn = stats.find((row) => row.name === 'burn')!;
    expect(wait.ratio).toBe(1);
    expect(wait.cpuRatio).toBe(1);
    expect(wait.medianMs).toBeGreaterThanOrEqual(14);
    expect(burn.cpuMedianMs).toBeGreaterThanOrEqual(15);
    expect(burn.cpuMedianMs).toBeGreaterThan(wait.cpuMedianMs);
    expect(burn.cpuRatio).toBeCloseTo(burn.cpuMedianMs / wait.cpuMedianMs);
    expect(burn.p90Ms).toBeGreaterThanOrEqual(burn.medianMs);
  });

  it('awaits rows that return promises', async () => {
    let finished = 0;
    await compare({
      title: 'async',
      baseline: 'x',
      rows: [{ name: 'x', run: async () => sleep(1).then(() => finished++) }],
      rounds: 3,
      warmup: 0,
    });
    expect(finished).toBe(3);
  });

  it('refuses a missing baseline and repeated names', async () => {
    const run = (): void => {};
    await expect(
      compare({ title: 't', baseline: 'z', rows: [{ name: 'a', run }] }),
    ).rejects.toThrow(/no row named "z"/);
    await expect(
      compare({
        title: 't',
        baseline: 'a',
        rows: [
          { name: 'a', run },
          { name: 'a', run },
        ],
      }),
    ).rejects.toThrow(/repeat/);
  });
});

describe('markdownTable', () => {
  it('prints one line per row with times and ratios', () => {
    const table = markdownTable('Title', [
      { name: 'base', samples: 3, medianMs: 40, p90Ms: 44, cpuMedianMs: 39, ratio: 1, cpuRatio: 1 },
      {
        name: 'other',
        samples: 3,
        medianMs: 188.4,
        p90Ms: 201,
        cpuMedianMs: 180,
        ratio: 4.71,
        cpuRatio: 4.615,
      },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('### Title');
    expect(table).toContain('| base | 40.0 | 44.0 | 39.0 | 1.00× | 1.00× |');
    expect(table).toContain('| other | 188 | 201 | 180 | 4.71× | 4.62× |');
    expect(formatMs(0.01234)).toBe('0.0123');
    expect(formatRatio(Number.NaN)).toBe('–');
  });
});

describe('saveResults', () => {
  it('writes JSON with the date and the machine', () => {
    const file = saveResults('harness-test', { answer: 42 });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.name).toBe('harness-test');
    expect(saved.data).toEqual({ answer: 42 });
    expect(saved.machine.cores).toBeGreaterThan(0);
    expect(typeof saved.machine.node).toBe('string');
  });
});
