import { expect } from 'vitest';
import { get } from './instances';

// What the fault tests check of a page server (`fixtures/app.tsx`'s handler) once Redis breaks
// and once it is back.

/** Every one of `paths`, requested at once, is answered 200 with its own page. */
export async function expectAllAnswered(url: string, paths: readonly string[]): Promise<void> {
  const answers = await Promise.all(paths.map((path) => get(url, path)));
  for (const [i, answer] of answers.entries()) {
    expect(answer.status).toBe(200);
    expect(answer.body).toContain(`<h1 id="path">${paths[i]}</h1>`);
  }
}

/**
 * The page cache stores and serves every one of `paths` again: each ends up a hit. `timeoutMs`
 * only bounds how long a failure takes to show.
 */
export async function cachesAgain(
  url: string,
  paths: readonly string[],
  timeoutMs: number,
): Promise<void> {
  for (const path of paths) {
    await expect.poll(async () => (await get(url, path)).cache, { timeout: timeoutMs }).toBe('hit');
  }
}
