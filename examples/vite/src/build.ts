import { join } from 'node:path';
import { build } from 'vite';
import { defaultDistDir, SERVER_ENTRY, viteConfigFile, viteRoot } from './paths';

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /**
   * Output folder (default `dist/` of this example). It gets `client/` and `server/`, both
   * emptied first. Keep it inside the example: the server bundle imports the dependencies from
   * `node_modules`.
   */
  outDir?: string;
}

/**
 * The production build: `vite build` of `index.html` and the browser entry (hashed assets, a
 * manifest, the built `index.html` as the template), then `vite build --ssr` of the server entry.
 * Run it with `NODE_ENV=production` (or unset): Vite takes the JSX runtime and React's build
 * from it.
 *
 * @example
 * await buildApp(); // dist/client, dist/server
 */
export async function buildApp(options: BuildAppOptions = {}): Promise<void> {
  const outDir = options.outDir ?? defaultDistDir;
  const common = {
    root: viteRoot,
    configFile: viteConfigFile,
    mode: 'production',
    logLevel: 'warn',
  } as const;
  await build({ ...common, build: { outDir: join(outDir, 'client'), emptyOutDir: true } });
  await build({
    ...common,
    build: {
      ssr: SERVER_ENTRY,
      outDir: join(outDir, 'server'),
      emptyOutDir: true,
      manifest: false,
    },
  });
}
