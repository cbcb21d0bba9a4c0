import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight';

/** A promise settled from outside, so that a test decides when work ends. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('concurrent callers of one key share one run; other keys run on their own', async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    let runs = 0;
    const work = () => {
      runs++;
      return gate.promise;
    };
    const callers = [flights.run('a', work), flights.run('a', work), flights.run('a', work)];
    const other = flights.run('b', async () => 'b');
    expect(runs).toBe(1);
    expect(flights.has('a')).toBe(true);
    gate.resolve('page');
    expect(await Promise.all(callers)).toEqual(['page', 'page', 'page']);
    expect(await other).toBe('b');
    await flights.idle();
    expect(flights.size).toBe(0);
  });

  it('an error reaches every waiter, and the next call runs again', async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    let runs = 0;
    const failing = () => {
      runs++;
      return gate.promise;
    };
    const callers = [flights.run('k', failing), flights.run('k', failing)];
    gate.reject(new Error('render failed'));
    for (const caller of callers) await expect(caller).rejects.toThrow('render failed');
    await flights.idle();
    expect(flights.has('k')).toBe(false);
    expect(await flights.run('k', async () => `run ${++runs}`)).toBe('run 2');
  });

  it('a work function that throws synchronously fails its flight instead of throwing', async () => {
    const flights = new SingleFlight<string>();
    const run = flights.run('k', () => {
      throw new Error('no render');
    });
    await expect(run).rejects.toThrow('no render');
  });

  it('a flight started by hand keeps its key until it ends, after its outcome is known', async () => {
    const flights = new SingleFlight<number>();
    const flight = flights.start('k');
    const waiter = flights.get('k');
    flight.settle(1);
    flight.settle(2);
    flight.fail(new Error('too late'));
    expect(await waiter).toBe(1);
    // still taken (e.g. while the result is written to the store): later callers join it
    expect(await flights.run('k', async () => 3)).toBe(1);
    flight.end();
    expect(flights.has('k')).toBe(false);
    expect(await flights.run('k', async () => 3)).toBe(3);
  });

  it('ending a replaced flight does not free the key of the one that replaced it', () => {
    const flights = new SingleFlight<number>();
    const first = flights.start('k');
    const second = flights.start('k');
    first.settle(1);
    first.end();
    expect(flights.get('k')).toBe(second.outcome);
    second.settle(2);
    second.end();
    expect(flights.size).toBe(0);
  });

  it('a failure nobody waits for is not an unhandled rejection', async () => {
    const flights = new SingleFlight<number>();
    const flight = flights.start('k');
    flight.fail(new Error('nobody listens'));
    flight.end();
    await flights.idle();
    expect(flights.size).toBe(0);
  });
});
