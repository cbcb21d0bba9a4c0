import { type ChildProcess, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launchRedisOnFreePort } from './redis';

const run = promisify(execFile);

/** One node of a {@link RedisCluster}. */
export interface RedisClusterNode {
  readonly port: number;
  readonly url: string;
  /** Whether the process still runs (false after `kill`). */
  readonly running: boolean;
  /** Kills the node (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Freezes the node (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Lets a paused node run again (SIGCONT). */
  resume(): void;
}

/** A real Redis Cluster of Debian `redis-server` processes on free loopback ports. */
export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** `host:port` of every node, for `createCluster({ rootNodes })` or `REDIS_CLUSTER_NODES`. */
  readonly addresses: readonly string[];
  /** Ports of the nodes that are masters right now (asks each running node). */
  masters(): Promise<number[]>;
  /** Resolves once every running node reports `cluster_state:ok` and all slots are served. */
  waitHealthy(): Promise<void>;
  /** Kills every node and removes the temporary directories. */
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5_000,
  });
  return stdout;
}

async function poll(what: string, check: () => Promise<boolean>, attempts = 600): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Redis Cluster: ${what} did not happen`);
}

/**
 * Starts a Redis Cluster (default 3 masters, each with 1 replica) with a short
 * `cluster-node-timeout`, and waits until every node says `cluster_state:ok`.
 */
export async function startRedisCluster(
  options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const count = masters * (1 + replicas);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const ports: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      [...children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // One node at a time: each gets a port no other node has (and a new one if another
    // process took its port before it could bind it).
    while (ports.length < count) {
      const node = await launchRedisOnFreePort(
        (port) => [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 1_000),
          '--appendonly',
          'no',
          '--save',
          '',
          // A replica syncs at once (the default waits 5 s for more replicas to share a sync).
          '--repl-diskless-sync-delay',
          '0',
        ],
        { cwd: dir, avoid: ports },
      );
      ports.push(node.port);
      children.set(node.port, node.child);
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const running = (port: number): boolean => {
    const child = children.get(port);
    return !!child && child.exitCode === null && child.signalCode === null;
  };
  const waitHealthy = async (): Promise<void> => {
    for (const port of ports.filter(running)) {
      await poll(`cluster_state:ok on ${port}`, async () => {
        const info = await cli(port, 'CLUSTER', 'INFO');
        return info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384');
      });
    }
  };
  /**
   * Every replica has synced with its master. Until then a replica cannot fail over (its data
   * counts as too old), so a master killed right after start would never be replaced.
   */
  const waitReplicasSynced = async (): Promise<void> => {
    for (const port of ports) {
      await poll(`replica ${port} synced`, async () => {
        const info = await cli(port, 'INFO', 'replication');
        return info.includes('role:master') || info.includes('master_link_status:up');
      });
    }
  };
  await waitHealthy()
    .then(waitReplicasSynced)
    .catch(async (error) => {
      await stop();
      throw error;
    });
  return {
    addresses: ports.map((port) => `127.0.0.1:${port}`),
    nodes: ports.map((port) => ({
      port,
      url: `redis://127.0.0.1:${port}`,
      get running() {
        return running(port);
      },
      async kill() {
        const child = children.get(port);
        if (!child || !running(port)) return;
        const exited = once(child, 'exit');
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      },
      pause: () => children.get(port)?.kill('SIGSTOP'),
      resume: () => children.get(port)?.kill('SIGCONT'),
    })),
    async masters() {
      const found: number[] = [];
      for (const port of ports.filter(running)) {
        const role = await cli(port, 'ROLE').catch(() => '');
        if (role.startsWith('master')) found.push(port);
      }
      return found;
    },
    waitHealthy,
    stop,
  };
}
