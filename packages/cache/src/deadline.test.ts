import { describe, expect, it } from 'vitest';
import { answerWithin } from './deadline';
import { KilnCacheError } from './errors';

const timedOut = () => new KilnCacheError('STORE_TIMEOUT', 'no answer');
const failed = (error: unknown) =>
  new KilnCacheError('STORE_FAILED', `failed: ${(error as Error).message}`, { cause: error });

describe('answerWithin', () => {
  it('gives the answer that comes in time', async () => {
    await expect(answerWithin(60_000, async () => 'OK', timedOut, failed)).resolves.toBe('OK');
  });

  it('gives up on a command that never answers, with the timeout error', async () => {
    const never = new Promise<never>(() => {});
    await expect(answerWithin(5, () => never, timedOut, failed)).rejects.toMatchObject({
      code: 'STORE_TIMEOUT',
    });
  });

  it('names a reply error and a client that throws as it sends, with the cause', async () => {
    const reply = new Error('CLUSTERDOWN The cluster is down');
    const rejected = answerWithin(60_000, () => Promise.reject(reply), timedOut, failed);
    await expect(rejected).rejects.toMatchObject({ code: 'STORE_FAILED', cause: reply });
    const thrown = new Error('client closed');
    const sync = answerWithin(
      60_000,
      () => {
        throw thrown;
      },
      timedOut,
      failed,
    );
    await expect(sync).rejects.toMatchObject({ code: 'STORE_FAILED', cause: thrown });
  });

  it('passes a KilnCacheError on as it is', async () => {
    const own = new KilnCacheError('STORE_UNAVAILABLE', 'not connected');
    await expect(answerWithin(60_000, () => Promise.reject(own), timedOut, failed)).rejects.toBe(
      own,
    );
  });
});
