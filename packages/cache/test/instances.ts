import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

// Server processes of `fixtures/server.tsx` for the cross-instance tests.

/** A GET with the same `Host` on every instance, as behind one load balancer. */
export function get(
  base: string,
  path: string,
): Promise<{ status: number; cache: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(base + path, { headers: { host: 'shop.test' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          cache: (response.headers['x-kiln-cache'] as string | undefined) ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

export interface Instance {
  url: string;
  child: ChildProcess;
  /** What the process wrote to stderr (cache errors), for failure messages. */
  errors(): string;
}

export async function startInstance(
  prefix: string,
  env: { [name: string]: string },
): Promise<Instance> {
  const script = fileURLToPath(new URL('./fixtures/server.tsx', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@kiln/source', '--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    env: { ...process.env, ...env, REDIS_PREFIX: prefix, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr?.on('data', (data: Buffer) => {
    errors += data.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const line = /\{"port":(\d+)\}/.exec(output);
      if (line) resolve(Number(line[1]));
    });
    child.once('exit', (code) =>
      reject(new Error(`server exited with ${code}: ${output}${errors}`)),
    );
  });
  return { url: `http://127.0.0.1:${port}`, child, errors: () => errors };
}

export async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null) return;
  const exited = once(instance.child, 'exit');
  instance.child.kill('SIGTERM');
  await exited;
}
