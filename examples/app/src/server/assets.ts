import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `pnpm --filter @kiln/example-app build` writes the browser bundle. */
export const defaultAssetsDir: string = fileURLToPath(
  new URL('../../dist/client', import.meta.url),
);

/** The URL path under which every server serves the files of the assets folder. */
export const ASSETS_PREFIX = '/assets/';

/** The built browser assets, as written to `manifest.json` in the assets folder. */
export interface ClientManifest {
  /** File name of the entry module, relative to the assets folder. */
  entry: string;
  /** Every file of the build, relative to the assets folder. */
  files: string[];
}

/**
 * Reads the manifest of a build made by {@link buildClient}.
 *
 * @example
 * const { entry } = await readClientManifest(defaultAssetsDir);
 */
export async function readClientManifest(dir: string): Promise<ClientManifest> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ClientManifest;
  } catch (cause) {
    throw new Error(
      `[kiln/example] no client build in ${dir}; run \`pnpm --filter @kiln/example-app build\` first`,
      { cause },
    );
  }
}

/**
 * Whether a request path names a file rather than a page: its last segment has a file
 * extension (`/favicon.ico`, `/robots.txt`, `/assets/client.js.map`). The shop's pages have
 * none. Every example answers these with a 404 before its catch-all route: rendered as pages,
 * each browser's automatic `/favicon.ico` would cost a whole render with its GraphQL queries.
 *
 * @example
 * if (isFilePath(new URL(req.url, 'http://localhost').pathname)) res.writeHead(404).end();
 */
export function isFilePath(pathname: string): boolean {
  return /\.[A-Za-z0-9]+$/.test(pathname.slice(pathname.lastIndexOf('/') + 1));
}
