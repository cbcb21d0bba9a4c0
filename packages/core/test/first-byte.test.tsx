/**
 * The shell leaves as soon as it is rendered, also when every boundary's data is already at
 * hand. React then renders the boundaries in the same run of microtasks as the shell, and a
 * `ServerResponse` corks its socket on `write()` until the next `process.nextTick`, which only
 * runs once those microtasks are done: without Kiln's uncork after each batch, the shell would
 * reach the browser together with the whole page. The client runs in its own process, so what
 * it reads is what the network carried.
 */
import { execFile } from 'node:child_process';
import { listen } from '@kiln/test-utils';
import { type ReactNode, Suspense, use } from 'react';
import { describe, expect, test } from 'vitest';
import { renderToHtml } from '../src/index';

const ITEMS = 40;

/** Render work that takes a while, so the boundaries' rendering outlasts the shell's. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

function Item(props: { value: Promise<number> }): ReactNode {
  const value = use(props.value);
  busy(5);
  return <li>{`item ${value}`}</li>;
}

function Page(): ReactNode {
  // Data at hand: each value one microtask away when the render asks for it.
  const items = Array.from({ length: ITEMS }, (_, i) => ({
    id: `item-${i}`,
    value: Promise.resolve(i).then((n) => n),
  }));
  return (
    <html lang="en">
      <head>
        <title>First byte</title>
      </head>
      <body>
        <h1>shell</h1>
        <ul>
          {items.map((item) => (
            <Suspense key={item.id} fallback={<li>loading</li>}>
              <Item value={item.value} />
            </Suspense>
          ))}
        </ul>
      </body>
    </html>
  );
}

/** A piece of the body and when it arrived (ms, on the reading process's clock). */
interface Arrived {
  at: number;
  text: string;
}

/**
 * What a client in another process read, piece by piece with its arrival time. (Pieces are the
 * response's chunked-encoding chunks: several can arrive in one network read, then at once.)
 */
function readFromAnotherProcess(url: string): Promise<Arrived[]> {
  const script = `
    const pieces = [];
    require('node:http').get(process.argv[1], (res) => {
      res.setEncoding('utf8');
      res.on('data', (text) => pieces.push({ at: performance.now(), text }));
      res.on('end', () => process.stdout.write(JSON.stringify(pieces)));
    });`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, url], (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as Arrived[]),
    );
  });
}

describe('first byte', () => {
  test('a piped page sends its shell before rendering the boundaries whose data is at hand', async () => {
    const server = await listen(async (req, res) =>
      (await renderToHtml(<Page />, { request: req, mode: 'stream' })).pipe(res),
    );
    try {
      const pieces = await readFromAnotherProcess(server.url);
      const body = pieces.map((piece) => piece.text).join('');
      expect(body).toContain(`item ${ITEMS - 1}`);
      expect(body.trimEnd()).toMatch(/<\/html>$/);
      // The shell, with every fallback, came first and alone...
      const [shell, ...later] = pieces;
      expect(shell?.text).toContain('<h1>shell</h1>');
      expect(shell?.text).not.toMatch(/item \d+/);
      // ...and reached the client while the boundaries were still rendering: they take at
      // least ITEMS × 5 ms of busy work after it, so the first boundary arrives that much later
      // (half of it is allowed). Held back by the cork, both arrive in the same network read.
      const firstBoundary = later.find((piece) => /item \d+/.test(piece.text));
      expect(firstBoundary).toBeDefined();
      expect(firstBoundary!.at - shell!.at).toBeGreaterThanOrEqual((ITEMS * 5) / 2);
    } finally {
      await server.close();
    }
  });
});
