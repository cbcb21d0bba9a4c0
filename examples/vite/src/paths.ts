import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Vite project root (this example's folder, where `index.html` and `vite.config.ts` are). */
export const viteRoot: string = fileURLToPath(new URL('..', import.meta.url));

/** The Vite config file. */
export const viteConfigFile: string = join(viteRoot, 'vite.config.ts');

/** Where `pnpm build` writes the production build: `client/` (the assets and `index.html`) and `server/`. */
export const defaultDistDir: string = join(viteRoot, 'dist');

/** The server entry, as `vite.ssrLoadModule` and `vite build --ssr` name it. */
export const SERVER_ENTRY = 'src/entry-server.tsx';
