import { buildClient, defaultClientDir } from './build';

/** `pnpm build`: the browser bundle, into `dist/client`. */
const { entry } = await buildClient();
console.log(`built ${defaultClientDir} (entry ${entry})`);
