import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';

/** A real `redis-server` on a free loopback port, without persistence. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A `redis-server` child process that answers PING on `port`. */
export interface RedisProcess {
  readonly port: number;
  readonly child: ChildProcess;
}

/**
 * Spawns `redis-server` on `port` with `args` and resolves once it answers PING. Rejects when
 * the process exits first (with the end of its output, e.g. "Address already in use"), or does
 * not answer within about 20 s.
 */
export async function launchRedis(
  port: number,
  args: readonly string[],
  cwd?: string,
): Promise<RedisProcess> {
  const child = spawn(
    process.env.REDIS_SERVER ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-2_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(() => {
    throw new Error(`redis-server exited before accepting connections on port ${port}:\n${output}`);
  });
  exited.catch(() => {});
  for (let attempt = 0; attempt < 800; attempt++) {
    if (await Promise.race([ping(port), exited])) {
      // Its log is not needed once it answers; stop reading it so that it never fills a pipe.
      child.stdout?.off('data', keep).resume();
      child.stderr?.off('data', keep).resume();
      return { port, child };
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port}:\n${output}`);
}

/**
 * Starts `redis-server` with `args` on a free loopback port. A port free when chosen can be
 * taken before redis-server binds it (by another test's server, or as the local port of a
 * client connection: both come from the same ephemeral range), and redis-server then exits:
 * it is started again on another free port, up to 5 times. `args` are given the port;
 * `avoid` lists ports not to use; `pickPort` chooses each attempt's port ({@link freePort}).
 */
export async function launchRedisOnFreePort(
  args: (port: number) => readonly string[],
  options: {
    cwd?: string;
    avoid?: readonly number[];
    pickPort?: () => Promise<number>;
  } = {},
): Promise<RedisProcess> {
  const errors: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await (options.pickPort ?? freePort)();
    if (options.avoid?.includes(port)) {
      errors.push(`port ${port} was chosen again but is to be avoided`);
      continue;
    }
    try {
      return await launchRedis(port, args(port), options.cwd);
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  throw new Error(`redis-server did not start in 5 attempts:\n${errors.join('\n')}`);
}

const SERVER_ARGS = ['--save', '', '--appendonly', 'no'];

/** Starts `redis-server` (Debian's, at /usr/bin/redis-server) for a test file. */
export async function startRedis(): Promise<RedisServer> {
  const first = await launchRedisOnFreePort(() => SERVER_ARGS);
  const port = first.port;
  let child: ChildProcess | undefined = first.child;

  // A restart keeps the port: the clients of the test reconnect to it.
  const start = async (): Promise<void> => {
    child = (await launchRedis(port, SERVER_ARGS)).child;
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    await exited;
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}
