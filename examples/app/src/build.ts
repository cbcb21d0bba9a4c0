import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type ClientManifest, defaultAssetsDir } from './server/assets';

export { type ClientManifest, defaultAssetsDir };

/** Options of {@link buildClient}. */
export interface BuildClientOptions {
  /** Output folder (default {@link defaultAssetsDir}). It is emptied first. */
  outDir?: string;
}

/**
 * Bundles the browser entry (`src/client.tsx`) with esbuild for production: minified,
 * content-hashed file names, `process.env.NODE_ENV` set to `production`, workspace packages
 * taken from their sources. `platform: 'browser'` makes any Node-only import a build error.
 *
 * @example
 * const manifest = await buildClient();
 * console.log(manifest.entry); // client-4JX2PQ7A.js
 */
export async function buildClient(options: BuildClientOptions = {}): Promise<ClientManifest> {
  const outDir = options.outDir ?? defaultAssetsDir;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./client.tsx', import.meta.url))],
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@kiln/source', 'module'],
    define: { 'process.env.NODE_ENV': '"production"' },
    jsx: 'automatic',
    minify: true,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const entry = outputs.find((file) => result.metafile.outputs[file]?.entryPoint);
  if (!entry) throw new Error('[kiln/example] esbuild wrote no entry module');
  const manifest: ClientManifest = {
    entry: basename(entry),
    files: outputs.map((file) => basename(file)),
  };
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}
