import { fileURLToPath } from 'node:url';

export interface BundleOptions {
  /** `process.env.NODE_ENV` in the bundle. Default `'production'`. */
  mode?: 'development' | 'production';
  /** Minify the output. Default false. */
  minify?: boolean;
}

/**
 * Bundles a browser entry (TypeScript/JSX) into one ES module string, resolving `@kiln/*`
 * packages to their sources through the `@kiln/source` condition, as the browser tests serve it.
 */
export async function bundleForBrowser(
  entry: string | URL,
  options: BundleOptions = {},
): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry instanceof URL ? fileURLToPath(entry) : entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    conditions: ['@kiln/source'],
    define: { 'process.env.NODE_ENV': JSON.stringify(options.mode ?? 'production') },
    minify: options.minify ?? false,
    logLevel: 'silent',
  });
  const text = result.outputFiles[0]?.text;
  if (!text) throw new Error(`esbuild produced no output for ${String(entry)}`);
  return text;
}
