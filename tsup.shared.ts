import { defineConfig, type Options } from 'tsup';

/**
 * The JavaScript build every @kiln package shares: ESM + CJS for `.` and `./client`. The
 * declarations are bundled after it by `scripts/build-types.mjs` (the package's `build` script).
 */
export function packageBuild(overrides: Options = {}): Options | Options[] {
  return defineConfig({
    entry: ['src/index.ts', 'src/client.ts'],
    format: ['esm', 'cjs'],
    clean: true,
    sourcemap: true,
    target: 'es2022',
    tsconfig: 'tsconfig.build.json',
    ...overrides,
  }) as Options;
}
