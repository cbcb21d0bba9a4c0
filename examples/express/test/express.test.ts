import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClient } from '@kiln/example-app/build';
import { describeExampleServer } from '@kiln/example-app/test-support';
import { describe, expect, it } from 'vitest';
import { startServer } from '../src/server';

describeExampleServer('express', startServer);

/** A raw GET: `fetch` refuses to send an undecodable path. */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    request({ host: hostname, port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('express example errors', () => {
  it('answers an undecodable path with a plain 400, without a stack, outside production too', async () => {
    expect(process.env.NODE_ENV).not.toBe('production');
    const assetsDir = await mkdtemp(join(tmpdir(), 'kiln-express-errors-'));
    await buildClient({ outDir: assetsDir });
    const server = await startServer({ port: 0, host: '127.0.0.1', assetsDir });
    try {
      for (const path of ['/%', '/%E0%A4%A']) {
        const { status, body } = await rawGet(server.url, path);
        expect(status).toBe(400);
        expect(body).toBe('Bad Request');
      }
    } finally {
      await server.close();
      await rm(assetsDir, { recursive: true, force: true });
    }
  });
});
