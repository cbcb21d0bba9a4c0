import { defineConfig, type Options } from 'tsup';

/** The build every @kiln package shares: ESM + CJS + declarations for `.` and `./client`. */
export function packageBuild(overrides: Options = {}): Options | Options[] {
  return defineConfig({
    entry: ['src/index.ts', 'src/client.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    tsconfig: 'tsconfig.build.json',
    ...overrides,
  }) as Options;
}
