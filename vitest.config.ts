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
 * Starts the longest files first, whatever their project, so that the long ones overlap and
 * short files fill the gaps at the end (vitest's default runs project after project). A file's
 * length is its last duration in vitest's cache, or the project's estimate on a fresh clone.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const expected = (spec: TestSpecification): number => {
      const name = spec.project.name;
      const cached = this.ctx.cache.getFileTestResults(`${name}:${relative(root, spec.moduleId)}`);
      return cached?.duration ?? FRESH_ESTIMATE_MS[name] ?? 5_000;
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
