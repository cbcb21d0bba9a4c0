import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientManifest } from '@kiln/example-app';
import { build } from 'esbuild';

/** Where {@link buildClient} writes the browser bundle by default. */
export const defaultClientDir: string = fileURLToPath(new URL('../dist/client', import.meta.url));

/**
 * Bundles the browser entry (`src/client.tsx`) with esbuild for production into `outDir`
 * (emptied first), with content-hashed names and a `manifest.json`.
 *
 * @example
 * const { entry } = await buildClient();
 */
export async function buildClient(outDir: string = defaultClientDir): Promise<ClientManifest> {
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
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const entry = outputs.find((file) => result.metafile.outputs[file]?.entryPoint);
  if (!entry) throw new Error('[kiln/example] esbuild wrote no entry module');
  const manifest: ClientManifest = {
    entry: basename(entry),
    files: outputs.map((f) => basename(f)),
  };
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

/**
 * Reads the manifest of a build made by {@link buildClient}.
 *
 * @example
 * const { entry } = await readManifest(defaultClientDir);
 */
export async function readManifest(dir: string): Promise<ClientManifest> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ClientManifest;
  } catch (cause) {
    throw new Error(
      `[kiln/example] no client build in ${dir}; run \`pnpm --filter @kiln/example-react-router build\` first`,
      { cause },
    );
  }
}
