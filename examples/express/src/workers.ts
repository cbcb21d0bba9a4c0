import cluster, { type Worker } from 'node:cluster';

const MAX_WORKERS = 64;

/**
 * Reads `WORKERS`: undefined when unset (one process, no primary), else a whole number of
 * worker processes from 1 to 64. Throws an error naming the variable otherwise.
 *
 * @example
 * const workers = workersFromEnvironment(process.env); // WORKERS=4 → 4
 */
export function workersFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  const raw = env.WORKERS;
  if (raw === undefined || raw === '') return undefined;
  if (!/^[1-9][0-9]?$/.test(raw) || Number(raw) > MAX_WORKERS) {
    throw new Error(
      `[kiln/example] WORKERS=${JSON.stringify(raw)} is invalid; expected a whole number of processes from 1 to ${MAX_WORKERS} (e.g. the number of cores)`,
    );
  }
  return Number(raw);
}

/**
 * The `node:cluster` primary: forks `count` workers that share the listening port (the
 * primary hands connections out in turn), starts a new worker when one that was serving dies,
 * and on SIGTERM or SIGINT forwards the signal to every worker and exits once all have
 * drained and exited (code 1 if one failed). A worker that dies before it ever listened (a
 * bad setting, Redis unreachable at start) stops the whole group instead of being restarted
 * in a loop.
 *
 * @example
 * if (cluster.isPrimary) runPrimary(4);
 */
export function runPrimary(count: number): void {
  const live = new Set<Worker>();
  const served = new Set<number>();
  let stopping = false;
  let failed = false;

  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (live.size === 0) process.exit(failed ? 1 : 0);
    for (const worker of live) worker.process.kill(signal);
  };

  cluster.on('listening', (worker, address) => {
    if (served.has(worker.id)) return;
    served.add(worker.id);
    if (served.size === count) {
      const host =
        address.address && address.address !== '::' && address.address !== '0.0.0.0'
          ? address.address
          : 'localhost';
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
      console.log(
        `Kiln example (Express) primary ${process.pid}: ${count} workers listening on ${url}`,
      );
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      if (code !== 0 && !signal) failed = true;
      if (live.size === 0) process.exit(failed ? 1 : 0);
      return;
    }
    if (!served.has(worker.id)) {
      console.error(
        `[kiln/example] worker ${worker.id} exited (${how}) before it listened; stopping (see its error above)`,
      );
      failed = true;
      stop('SIGTERM');
      return;
    }
    console.warn(`[kiln/example] worker ${worker.id} exited (${how}); starting another`);
    fork();
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < count; i++) fork();
}
