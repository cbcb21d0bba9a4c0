import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { projects } from './vitest.workspace';

/**
 * Expected length of a test file never run on this machine, by project: the projects that
 * start servers, browsers, tsc or child processes take tens of seconds per file.
 */
const FRESH_ESTIMATE_MS: Record<string, number> = {
  docs: 120_000,
  benchmarks: 60_000,
  packaging: 60_000,
  examples: 40_000,
  reliability: 20_000,
};

/**
 * Expected length of the long files of the other projects on a fresh clone. Without it the
 * Apollo hydration test (about 85 s, 60 page loads on a throttled CPU) started last on a fresh
 * clone and ended the gate alone: 6 min 13 s against 5 min 43–48 s with vitest's cache.
 */
const FRESH_ESTIMATE_FILES_MS: Record<string, number> = {
  'packages/apollo/test/hydration.test.tsx': 90_000,
  'packages/emotion/test/browser.test.tsx': 30_000,
  'packages/cache/test/tiered-store.test.ts': 15_000,
  'packages/cache/test/redis-cluster-faults.test.tsx': 15_000,
  'packages/core/test/hydrate-errors.test.tsx': 12_000,
};
for (const file of Object.keys(FRESH_ESTIMATE_FILES_MS)) {
  // A renamed or moved file would silently lose its estimate and start last again.
  if (!existsSync(new URL(file, import.meta.url))) {
    throw new Error(
      `vitest.config.ts: FRESH_ESTIMATE_FILES_MS names ${file}, which does not exist; give the file's new path or remove the line`,
    );
  }
}

/**
 * Starts the longest files first, whatever their project, so that the long ones overlap and
 * short files fill the gaps at the end (vitest's default runs project after project). A file's
 * length is its last duration in vitest's cache or, on a fresh clone (as in CI), its estimate
 * above or its project's.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const expected = (spec: TestSpecification): number => {
      const name = spec.project.name;
      const file = relative(root, spec.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${name}:${file}`);
      return cached?.duration ?? FRESH_ESTIMATE_FILES_MS[file] ?? FRESH_ESTIMATE_MS[name] ?? 5_000;
    };
    return [...files].sort((a, b) => expected(b) - expected(a));
  }
}

export default defineConfig({
  test: {
    projects,
    // Many files wait on browsers, servers and child processes rather than compute: two files at
    // a time keep both cores busy (vitest's default, one worker per core but one, is a single
    // file at a time here). More workers add CPU contention to the tests that time renders.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
