// Runs every vitest project once and closes with a plain summary line
// ("vitest: N passed, N failed, N skipped") that CI logs can be read by.
// Extra arguments go to vitest (e.g. `--project core`).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const out = '.vitest-results.json';
rmSync(out, { force: true });
const args = [
  'exec',
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
];
const run = spawnSync('pnpm', [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
let summary = 'vitest: no results written';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  summary = `vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`;
  if (r.numTotalTests === 0) {
    console.error('vitest ran no test');
    process.exitCode = 1;
  }
} catch {
  process.exitCode = 1;
}
console.log(summary);
if (run.status !== 0) process.exitCode = run.status ?? 1;
