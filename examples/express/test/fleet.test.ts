import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildClient } from '@kiln/example-app/build';
import { CHROME_UA } from '@kiln/example-app/test-support';
import { freePort, type RedisCluster, startRedisCluster } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The Express example as it is deployed: `WORKERS=4` processes under a `node:cluster` primary,
// sharing one page cache and one render lock on a real Redis Cluster (3 masters, 3 replicas).

const run = promisify(execFile);
const TOKEN = 'a-test-admin-token-of-at-least-32-characters';

interface Answer {
  status: number;
  cache: string | null;
  worker: string | null;
  body: string;
}

/** One request with the site's own `Host`, as every process behind a load balancer sees it. */
function send(base: string, path: string, init: { method?: string; token?: string } = {}) {
  const headers: Record<string, string> = { 'user-agent': CHROME_UA, host: 'shop.test' };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: init.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          cache: (res.headers['x-kiln-cache'] as string | undefined) ?? null,
          worker: (res.headers['x-kiln-worker'] as string | undefined) ?? null,
          body,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The page without its per-response CSP nonce. */
const withoutNonce = (html: string) => html.replace(/nonce(?:="|-)[A-Za-z0-9+/=_-]+/g, 'nonce');

const burst = (base: string, path: string, count = 50) =>
  Promise.all(Array.from({ length: count }, () => send(base, path)));

interface Fleet {
  url: string;
  primary: ChildProcess;
  output(): string;
}

async function startFleet(env: Record<string, string>): Promise<Fleet> {
  // From the example's folder, as `pnpm start` runs it (tsx reads its tsconfig for JSX).
  const root = fileURLToPath(new URL('..', import.meta.url));
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const primary = spawn(process.execPath, ['--conditions=@kiln/source', '--import', 'tsx', main], {
    cwd: root,
    env: { ...process.env, ...env, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  primary.stderr?.on('data', (data: Buffer) => {
    output += data.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    primary.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const line = /workers listening on (http:\/\/\S+)/.exec(output);
      if (line) resolve(line[1]!);
    });
    primary.once('exit', (code) => reject(new Error(`primary exited with ${code}: ${output}`)));
  });
  return { url, primary, output: () => output };
}

/** The worker processes of the primary, asked of the system. */
async function workerPids(primary: ChildProcess): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-P', String(primary.pid), '-f', 'src/main.ts']).catch(
    () => ({ stdout: '' }),
  );
  return stdout.split('\n').filter(Boolean).map(Number);
}

let redis: RedisCluster;
let assetsDir: string;
let fleet: Fleet | undefined;

beforeAll(async () => {
  assetsDir = await mkdtemp(join(tmpdir(), 'kiln-express-fleet-'));
  await buildClient({ outDir: assetsDir });
  redis = await startRedisCluster();
}, 180_000);

afterAll(async () => {
  if (fleet && fleet.primary.exitCode === null && fleet.primary.signalCode === null) {
    const pids = await workerPids(fleet.primary);
    const exited = once(fleet.primary, 'exit');
    fleet.primary.kill('SIGKILL');
    await exited;
    for (const pid of pids) process.kill(pid, 'SIGKILL');
  }
  await redis?.stop();
  if (assetsDir) await rm(assetsDir, { recursive: true, force: true });
});

describe('express example with WORKERS=4 on a Redis Cluster', () => {
  it('starts 4 workers sharing one port', async () => {
    fleet = await startFleet({
      WORKERS: '4',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      ASSETS_DIR: assetsDir,
      KILN_CACHE: 'redis',
      REDIS_CLUSTER_NODES: redis.addresses.join(','),
      // The machine running the tests is shared and slow: no command may time out here.
      REDIS_TIMEOUT_MS: '5000',
      KILN_ADMIN_TOKEN: TOKEN,
    });
    expect((await workerPids(fleet.primary)).length).toBe(4);
  }, 120_000);

  it('renders a cold page once for 50 concurrent requests spread over the workers', async () => {
    const { url } = fleet!;
    for (const path of ['/products/kettle', '/']) {
      const answers = await burst(url, path);
      expect(
        answers.map((a) => a.status),
        fleet!.output() + answers[0]!.body,
      ).toEqual(answers.map(() => 200));
      expect(answers.filter((a) => a.cache === 'miss').length, fleet!.output()).toBe(1);
      expect(answers.filter((a) => a.cache === 'hit').length).toBe(49);
      const workers = new Set(answers.map((a) => a.worker));
      console.log(`${path}: 50 requests answered by workers ${[...workers].sort().join(', ')}`);
      expect(workers.size).toBeGreaterThan(1);
      const page = withoutNonce(answers.find((a) => a.cache === 'miss')!.body);
      if (path !== '/') expect(page).toContain('Stovetop kettle');
      for (const answer of answers) expect(withoutNonce(answer.body)).toBe(page);
    }
  }, 120_000);

  it('refuses invalidation without the admin token or with a malformed tag', async () => {
    const { url } = fleet!;
    const path = '/__kiln/invalidate?tag=product:kettle';
    expect((await send(url, path, { method: 'POST' })).status).toBe(401);
    expect((await send(url, path, { method: 'POST', token: `${TOKEN}x` })).status).toBe(401);
    expect((await send(url, path, { method: 'POST', token: TOKEN.slice(1) })).status).toBe(401);
    const bad = await send(url, '/__kiln/invalidate?tag=%0Aproduct', {
      method: 'POST',
      token: TOKEN,
    });
    expect(bad.status).toBe(400);
    // Nothing was dropped: every worker still serves the stored page.
    const answers = await burst(url, '/products/kettle', 8);
    expect(answers.map((a) => a.cache)).toEqual(answers.map(() => 'hit'));
  }, 60_000);

  it('stops serving a page on every worker once its tag is invalidated through one', async () => {
    const { url } = fleet!;
    const before = withoutNonce((await send(url, '/products/kettle')).body);
    const other = await send(url, '/__kiln/invalidate?tag=product:teapot', {
      method: 'POST',
      token: TOKEN,
    });
    expect(other.status).toBe(200);
    expect((await burst(url, '/products/kettle', 8)).every((a) => a.cache === 'hit')).toBe(true);

    const started = performance.now();
    const dropped = await send(url, '/__kiln/invalidate?tag=product:kettle', {
      method: 'POST',
      token: TOKEN,
    });
    expect(dropped.status, dropped.body).toBe(200);
    expect(JSON.parse(dropped.body)).toEqual({ removed: 1 });
    // Poll the real state: rounds of requests over every worker until none serves the old
    // entry. With the pages in Redis (no per-process tier) the first round already renders anew.
    let rounds = 0;
    let answers: Answer[];
    do {
      rounds++;
      answers = await burst(url, '/products/kettle', 50);
    } while (answers.every((a) => a.cache === 'hit'));
    const delay = performance.now() - started;
    console.log(
      `invalidation through worker ${dropped.worker}: every worker renders anew after ${rounds} round(s), ${delay.toFixed(0)} ms from the request (workers ${[...new Set(answers.map((a) => a.worker))].sort().join(', ')})`,
    );
    expect(rounds).toBe(1);
    expect(answers.filter((a) => a.cache === 'miss').length).toBe(1);
    expect(answers.filter((a) => a.cache === 'hit').length).toBe(49);
    const page = withoutNonce(answers.find((a) => a.cache === 'miss')!.body);
    expect(page).toContain('Stovetop kettle');
    for (const answer of answers) expect(withoutNonce(answer.body)).toBe(page);
    expect(before).toContain('Stovetop kettle');
  }, 60_000);

  it('starts a new worker when one dies, and keeps answering', async () => {
    const { primary, url } = fleet!;
    const pids = await workerPids(primary);
    process.kill(pids[0]!, 'SIGKILL');
    // Poll the process table until the primary has forked a replacement.
    let now = pids;
    while (now.length !== 4 || now.includes(pids[0]!)) {
      await new Promise((resolve) => setImmediate(resolve));
      now = await workerPids(primary);
    }
    expect(fleet!.output()).toContain('exited (signal SIGKILL); starting another');
    const answers = await burst(url, '/products/kettle', 20);
    expect(answers.every((a) => a.status === 200 && a.cache === 'hit')).toBe(true);
  }, 60_000);

  it('answers every request while a Redis master is killed mid-load, and caches again after the failover', async () => {
    const { url } = fleet!;
    const names: Record<string, string> = {
      '/products/kettle': 'Stovetop kettle',
      '/products/teapot': 'Clay teapot',
      '/products/mugs': 'Pair of mugs',
    };
    const paths = ['/', ...Object.keys(names)];
    const answers: (Answer & { path: string })[] = [];
    let stopped = false;
    const client = async (offset: number) => {
      for (let i = offset; !stopped; i += 8) {
        const path = paths[i % paths.length]!;
        answers.push({ ...(await send(url, path)), path });
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, i) => client(i)));
    await expect.poll(() => answers.length, { timeout: 60_000 }).toBeGreaterThan(40);
    const masters = await redis.masters();
    await redis.nodes.find((node) => node.port === masters[0])!.kill();
    const atKill = answers.length;
    // A replica takes over the dead master's slots; requests keep coming meanwhile.
    await expect.poll(async () => (await redis.masters()).length, { timeout: 60_000 }).toBe(3);
    await redis.waitHealthy();
    await expect.poll(() => answers.length, { timeout: 60_000 }).toBeGreaterThan(atKill + 40);
    stopped = true;
    await load;
    const counts = (list: typeof answers) =>
      Object.entries(
        list.reduce<Record<string, number>>((acc, a) => {
          acc[`${a.status} ${a.cache}`] = (acc[`${a.status} ${a.cache}`] ?? 0) + 1;
          return acc;
        }, {}),
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
    console.log(
      `master killed mid-load: ${answers.length} requests; before the kill ${counts(answers.slice(0, atKill))}; after ${counts(answers.slice(atKill))}`,
    );
    // No failed request, no wrong page.
    for (const answer of answers) {
      expect(answer.status, answer.body.slice(0, 300)).toBe(200);
      if (answer.path !== '/') expect(answer.body).toContain(names[answer.path]!);
    }
    // Once the cluster serves every slot again, a page invalidated now is rendered once and stored.
    // A worker's Redis client may still be finding the promoted replica when the cluster says it
    // is healthy: the endpoint then answers its documented 503, and the caller sends it again.
    const refused: string[] = [];
    await expect
      .poll(
        async () => {
          const dropped = await send(url, '/__kiln/invalidate?tag=page', {
            method: 'POST',
            token: TOKEN,
          });
          if (dropped.status !== 200) refused.push(`${dropped.status} ${dropped.body}`);
          return dropped.status;
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe(200);
    for (const answer of refused)
      expect(answer).toMatch(/^503 The page cache could not be reached/);
    await expect
      .poll(async () => (await burst(url, '/products/kettle', 8)).every((a) => a.cache === 'hit'), {
        timeout: 60_000,
      })
      .toBe(true);
  }, 240_000);

  it('exits on SIGTERM once every worker has drained, even with a Redis master dead', async () => {
    const { primary } = fleet!;
    const masters = await redis.masters();
    await redis.nodes.find((node) => node.port === masters[0])!.kill();
    const pids = await workerPids(primary);
    const exited = once(primary, 'exit');
    primary.kill('SIGTERM');
    const [code] = await exited;
    expect(code, fleet!.output()).toBe(0);
    expect((await workerPids(primary)).length).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});
