import { resolve } from 'node:path';
import { buildApp } from './build';
import { defaultDistDir } from './paths';

/** `pnpm build [outDir]`: the production build, into `dist/` unless a folder is given. */
const outDir = process.argv[2] ? resolve(process.argv[2]) : defaultDistDir;
const started = performance.now();
await buildApp({ outDir });
console.log(`built ${outDir} (${Math.round(performance.now() - started)} ms)`);
