/**
 * The list of vitest projects. The root `vitest.config.ts` uses it as `test.projects`.
 * Every project resolves `@kiln/*` packages to their `src/` through the `@kiln/source`
 * export condition, so no build step is needed to test.
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
      hookTimeout: 60_000,
      // `expect.poll` passes as soon as its condition holds; the bound only decides how long a
      // failure takes to show. Vitest's 1 s default fails a click or a write under load.
      expect: { poll: { timeout: 30_000 } },
    },
  });
}

/**
 * Type tests (`*.test-d.ts`, `expectTypeOf`) of the packages' public contracts. One project
 * checks them all with one tsc program: a tsc run per package would load React's and Apollo's
 * types once each.
 */
const types = defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: 'types',
    typecheck: {
      enabled: true,
      only: true,
      include: ['packages/*/src/**/*.test-d.ts', 'packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});

export const projects: TestProjectConfiguration[] = [
  types,
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
