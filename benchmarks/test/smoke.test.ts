/**
 * The benchmark suite, run once with tiny counts (`BENCH_QUICK=1`) exactly as `pnpm bench` runs
 * it, to prove that every benchmark still works and every row renders a correct page. No speed
 * is asserted: figures from a quick run mean nothing.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchmarkNames } from '../src/run';

const benchmarksDir = fileURLToPath(new URL('..', import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runSuite(): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['bench'], {
      cwd: benchmarksDir,
      env: { ...process.env, BENCH_QUICK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('pnpm bench with BENCH_QUICK=1', () => {
  let outcome: Outcome;
  beforeAll(async () => {
    outcome = await runSuite();
  }, 540_000);

  it.each(benchmarkNames())('runs the %s benchmark to the end', (name) => {
    expect(outcome.stderr).not.toContain(`[bench] ${name} failed`);
    expect(outcome.stderr).toMatch(new RegExp(`\\[bench\\] ${name} done in`));
  });

  it('exits with code 0', () => {
    expect(outcome.code, outcome.stderr.slice(-4000)).toBe(0);
  });

  it('times every page row, none skipped for a wrong page', () => {
    const { stdout } = outcome;
    for (const row of [
      'floor: renderToString, cache full',
      'data then render',
      'hand-rolled: prerenderStatic',
      'suspense: React onAllReady',
      'Kiln buffered, useQuery page',
      'Kiln streamed, useQuery page',
      'Kiln buffered, suspense page',
      'Kiln streamed, suspense page',
    ]) {
      expect(stdout).toMatch(new RegExp(`^\\| ${row.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    }
    expect(stdout).not.toMatch(/skipped/);
  });

  it('serves every HTTP row after checking its pages', () => {
    const { stdout } = outcome;
    for (const row of [
      'static floor (precomputed bytes)',
      'hand-rolled pipeline',
      'Kiln buffered',
      'Kiln streamed',
      'hand-rolled pipeline, useQuery page',
      'Kiln streamed, suspense page',
    ]) {
      expect(stdout).toContain(`| ${row} |`);
    }
    expect(stdout).not.toMatch(/failures under load|skipped/);
  });
});
