import { buildClient, defaultAssetsDir } from './build';

const started = performance.now();
const manifest = await buildClient();
console.log(
  `client bundle: ${defaultAssetsDir}/${manifest.entry} (${Math.round(performance.now() - started)} ms)`,
);
