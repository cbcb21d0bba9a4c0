// Writes a package's bundled declarations: dist/<entry>.d.ts for `import` and dist/<entry>.d.cts
// for `require`, one pair per entry (`package-entries.mjs`). Run in the package's folder after
// tsup has written the JavaScript (`pnpm build` does both).
//
// The sources are written for `isolatedDeclarations` (`tsconfig.build.json`), so each file's
// declarations come from that file alone (`ts.transpileDeclaration`): no program and no
// type-checking here; the gate's `tsc -p tsconfig.json` checks the types. This step is what
// enforces the rule: a declaration that needs inference fails the build, naming file and line.
// rollup-plugin-dts then bundles the declaration files per entry, with what the entries share
// in one chunk, as it bundles JavaScript.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';
import ts from 'typescript';
import { packageEntries } from './package-entries.mjs';

const pkgDir = process.cwd();
const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const entries = packageEntries(pkgDir);

const configPath = join(pkgDir, 'tsconfig.build.json');
const config = ts.getParsedCommandLineOfConfigFile(
  configPath,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!config) throw new Error(`${configPath} could not be read`);

const srcDir = join(pkgDir, 'src');
const out = mkdtempSync(join(tmpdir(), 'kiln-types-'));
try {
  const problems = [];
  for (const file of config.fileNames) {
    const { outputText, diagnostics } = ts.transpileDeclaration(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: config.options,
      reportDiagnostics: true,
    });
    for (const d of diagnostics ?? []) {
      const where =
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const at = where
        ? `${relative(pkgDir, file)}:${where.line + 1}:${where.character + 1}`
        : relative(pkgDir, file);
      problems.push(`${at} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
    const target = join(out, relative(srcDir, file).replace(/\.tsx?$/, '.d.ts'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  if (problems.length) {
    console.error(
      `${manifest.name}: declarations need explicit types (isolatedDeclarations):\n${problems.join('\n')}`,
    );
    process.exit(1);
  }

  const input = Object.fromEntries(
    Object.keys(entries).map((stem) => [stem, join(out, `${stem}.d.ts`)]),
  );
  const bundle = await rollup({
    input,
    // Other packages (Kiln's own included) stay imports, as in the JavaScript.
    external: (id) => !id.startsWith('.') && !isAbsolute(id),
    plugins: [dts({ compilerOptions: { ...config.options, declaration: false } })],
    onwarn(warning) {
      throw new Error(`${manifest.name}: bundling declarations: ${warning.message}`);
    },
  });
  const dist = resolve(pkgDir, 'dist');
  for (const ext of ['d.ts', 'd.cts']) {
    await bundle.write({
      dir: dist,
      format: 'es',
      entryFileNames: `[name].${ext}`,
      // A shared chunk is named after its first module (`errors.d.ts` gives `errors-<hash>`).
      chunkFileNames: (chunk) => `${chunk.name.replace(/\.d$/, '')}-[hash].${ext}`,
    });
  }
  await bundle.close();
} finally {
  rmSync(out, { recursive: true, force: true });
}
