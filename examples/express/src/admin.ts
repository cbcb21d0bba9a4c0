import { createHash, timingSafeEqual } from 'node:crypto';
import type { PageCache, PartialCache } from '@kiln/cache';
import type { Request, Response } from 'express';

/** Shortest admin token accepted: a guessable token would hand out cache invalidation. */
const MIN_TOKEN_LENGTH = 32;
const TAG = /^[a-z0-9][a-z0-9:._/-]{0,127}$/;

/**
 * Reads `KILN_ADMIN_TOKEN`: undefined when unset (no admin endpoint), else at least 32
 * printable ASCII characters. Throws an error naming the variable otherwise.
 *
 * @example
 * const token = adminTokenFromEnvironment(process.env);
 */
export function adminTokenFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const token = env.KILN_ADMIN_TOKEN;
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error(
      `[kiln/example] KILN_ADMIN_TOKEN is invalid; expected at least ${MIN_TOKEN_LENGTH} printable ASCII characters without spaces (e.g. openssl rand -hex 32)`,
    );
  }
  return token;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares in constant time: both sides are hashed to the same length first. */
function sameToken(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/**
 * `POST /__kiln/invalidate?tag=…` with `authorization: Bearer <KILN_ADMIN_TOKEN>`: drops every
 * cached page carrying the tag, for every process sharing the cache. Answers 401 without the
 * token, 400 for a malformed tag, `{"removed":n}` once the store dropped the pages, and 503 with
 * `retry-after` when the store failed (Redis down, or a cluster still moving a dead master's
 * slots): the pages may still be cached somewhere, so the caller sends the request again.
 *
 * @example
 * app.post('/__kiln/invalidate', invalidateHandler(pages, token));
 */
export function invalidateHandler(
  pages: PageCache | PartialCache,
  token: string,
): (req: Request, res: Response) => Promise<void> {
  const expected = digest(token);
  return async (req, res) => {
    res.set('cache-control', 'no-store');
    const header = req.get('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!sameToken(given, expected)) {
      res.status(401).type('text/plain').send('Unauthorized');
      return;
    }
    const tag = req.query.tag;
    if (typeof tag !== 'string' || !TAG.test(tag)) {
      res
        .status(400)
        .type('text/plain')
        .send('tag must be 1-128 characters of a-z 0-9 : . _ / -, starting with a letter or digit');
      return;
    }
    let removed: number;
    try {
      removed = await pages.invalidate({ tag });
    } catch (error) {
      console.error(`[kiln/example] invalidating tag ${tag} failed:`, error);
      res
        .status(503)
        .set('retry-after', '1')
        .type('text/plain')
        .send('The page cache could not be reached: the tag may still be cached. Retry.');
      return;
    }
    res.json({ removed });
  };
}
