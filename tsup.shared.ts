import { defineConfig, type Options } from 'tsup';
import { packageEntries } from './scripts/package-entries.mjs';

/**
 * The JavaScript build every @kiln package shares: ESM + CJS for each entry of its `exports`
 * (`scripts/package-entries.mjs`), run in the package's folder. The declarations are bundled
 * after it by `scripts/build-types.mjs` (the package's `build` script).
 */
export function packageBuild(): Options {
  return defineConfig({
    // The source files as a list: tsup names each output after its file, as the stems are.
    entry: Object.values(packageEntries(process.cwd())),
    format: ['esm', 'cjs'],
    clean: true,
    sourcemap: true,
    target: 'es2022',
    tsconfig: 'tsconfig.build.json',
  }) as Options;
}
