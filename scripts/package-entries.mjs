// The entries of a package, read from its package.json `exports`: every export with a
// "@kiln/source" file is built, its JavaScript by tsup (`tsup.shared.ts`) and its declarations
// by `build-types.mjs`, so adding an entry to `exports` is all a new entry needs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Dist file stem → source file (`{ index: 'src/index.ts' }`) of the package in `dir`. */
export function packageEntries(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const entries = {};
  for (const target of Object.values(manifest.exports ?? {})) {
    const source = typeof target === 'object' ? target['@kiln/source'] : undefined;
    if (!source) continue;
    const file = source.replace(/^\.\//, '');
    entries[file.replace(/^src\//, '').replace(/\.tsx?$/, '')] = file;
  }
  if (Object.keys(entries).length === 0) {
    throw new Error(
      `${manifest.name}: no "@kiln/source" entry in package.json "exports": nothing to build.`,
    );
  }
  return entries;
}
