/**
 * The list of vitest projects. The root `vitest.config.ts` uses it as `test.projects`.
 * Every project resolves `@kiln/*` packages to their `src/` through the `@kiln/source`
 * export condition, so no build step is needed to test.
 *
 * The type tests of the public contracts (each package's `test/contracts.test-d.ts`,
 * vitest's `expectTypeOf`) are not a project: `tsconfig.json` includes them, so `tsc -p tsconfig.json`
 * (the gate's `gate:typecheck`) fails on any of them, and a vitest typecheck project
 * would only build the same program a second time (16 s of CPU).
 */
import { defineProject, type TestProjectConfiguration } from 'vitest/config';

const sourceConditions = ['@kiln/source', 'module', 'node', 'development|production'];

function project(
  name: string,
  dir: string,
  extra: { testTimeout?: number } = {},
): TestProjectConfiguration {
  return defineProject({
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions } },
    test: {
      name,
      environment: 'node',
      include: [`${dir}/src/**/*.test.{ts,tsx}`, `${dir}/test/**/*.test.{ts,tsx}`],
      testTimeout: extra.testTimeout ?? 20_000,
      // A worker loads React, Apollo and the packages once for all the files it runs, not once
      // per file (as a server does for all its requests): about 38 s of CPU less in the gate. A
      // test that changes a global (an env variable, a console spy) restores it in its own hooks.
      isolate: false,
      hookTimeout: 60_000,
      // `expect.poll` passes as soon as its condition holds; the bound only decides how long a
      // failure takes to show. Vitest's 1 s default fails a click or a write under load.
      expect: { poll: { timeout: 30_000 } },
    },
  });
}

export const projects: TestProjectConfiguration[] = [
  project('serialize', 'packages/serialize'),
  project('core', 'packages/core'),
  project('apollo', 'packages/apollo'),
  project('emotion', 'packages/emotion'),
  project('cache', 'packages/cache', { testTimeout: 60_000 }),
  project('examples', 'examples/*', { testTimeout: 120_000 }),
  // The timeouts only bound how long a hung test takes to fail; on a loaded two-core machine the
  // memory test, the consumer install and typedoc with tsc have taken 2-3 times their usual time.
  project('reliability', 'reliability', { testTimeout: 300_000 }),
  project('benchmarks', 'benchmarks', { testTimeout: 600_000 }),
  project('packaging', 'tools/package-checks', { testTimeout: 600_000 }),
  project('docs', 'tools/docs-check', { testTimeout: 600_000 }),
];
