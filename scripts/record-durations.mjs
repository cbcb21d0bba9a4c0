// Writes scripts/test-durations.json from vitest's cache of the last run on this machine: each
// test file's duration, for the files of a second or more. The root vitest.config.ts starts the
// longest files first; on a fresh clone (CI), which has no cache, it reads their lengths here.
// Run after a whole `pnpm test`: `node scripts/record-durations.mjs`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const cacheDir = 'node_modules/.vite/vitest';
const durations = {};
for (const hash of readdirSync(cacheDir)) {
  let cache;
  try {
    cache = JSON.parse(readFileSync(`${cacheDir}/${hash}/results.json`, 'utf8'));
  } catch {
    continue;
  }
  for (const [file, result] of cache.results ?? []) {
    if (typeof result?.duration === 'number' && result.duration >= 1000) {
      durations[file] = Math.round(result.duration / 100) * 100;
    }
  }
}
const sorted = Object.fromEntries(Object.entries(durations).sort((a, b) => b[1] - a[1]));
if (Object.keys(sorted).length === 0) {
  console.error(`no durations in ${cacheDir}: run the tests first`);
  process.exit(1);
}
writeFileSync('scripts/test-durations.json', `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`scripts/test-durations.json: ${Object.keys(sorted).length} files`);
