import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '@kiln/example-app';
import { buildClient } from '@kiln/example-app/build';
import { describeExampleServer } from '@kiln/example-app/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server';

describeExampleServer('koa', startServer);

describe('koa example middleware', () => {
  let assetsDir: string;
  let entry: string;
  let server: RunningServer;
  beforeAll(async () => {
    assetsDir = await mkdtemp(join(tmpdir(), 'kiln-koa-'));
    ({ entry } = await buildClient({ outDir: assetsDir }));
    server = await startServer({ port: 0, host: '127.0.0.1', assetsDir, picksLatencyMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
    if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
  });

  it('serves the files of the build, immutable, and nothing else from the disk', async () => {
    const asset = await fetch(`${server.url}/assets/${entry}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    await asset.arrayBuffer();
    for (const path of ['/assets/manifest.json.missing', '/assets/%2e%2e/package.json']) {
      const other = await fetch(server.url + path);
      expect(other.status).toBe(404);
      // a path with a file extension is a file, not a page: a plain 404, nothing read from disk
      expect(await other.text()).toBe('Not Found');
    }
  });

  it('answers other methods than GET with a 405 and renders nothing', async () => {
    const posted = await fetch(server.url, { method: 'POST' });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
  });
});
