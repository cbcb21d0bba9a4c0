import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildClient } from '../src/build';

describe('the client build', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('bundles the browser entry for production, with no server code in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-example-build-'));
    dirs.push(dir);
    const manifest = await buildClient({ outDir: dir });
    expect(manifest.entry).toMatch(/^client-[A-Z0-9]+\.js$/);
    expect(manifest.files).toContain(manifest.entry);
    const code = await readFile(join(dir, manifest.entry), 'utf8');
    expect(code).toContain('hydrateRoot');
    // Server-only parts: React's server renderer, the GraphQL server, Kiln's server entries.
    for (const serverOnly of [
      'renderToPipeableStream',
      'renderToReadableStream',
      'createYoga',
      'isbot',
      'process.env.NODE_ENV',
      'from"node:',
      'require("node:',
    ]) {
      expect(code, serverOnly).not.toContain(serverOnly);
    }
    // Development builds of React say so in their warnings; production ones point to the decoder.
    expect(code).toContain('react.dev/errors/');
  });
});
