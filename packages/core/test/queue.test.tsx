import { Writable } from 'node:stream';
import type { ReactNode } from 'react';
import { renderToPipeableStream, renderToReadableStream } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import { type KilnPlugin, renderToHtml, useRenderContext } from '../src/index';
import { Await, Boundary, type Deferred, Doc, deferred, recorder, sleep } from './helpers';

const NONCE = 'n0nce';

/** Injected markers look like `<script nonce="n0nce">/*kind:id*\/</script>`. */
const INJECTED =
  /<script nonce="n0nce">\/\*(?:inj|flush|end):[^*]*\*\/<\/script>|<style nonce="n0nce">\/\*head\*\/<\/style>/g;

function Inject(props: { id: string; children?: ReactNode }): ReactNode {
  const ctx = useRenderContext();
  ctx.inject(`<script>/*inj:${props.id}*/</script>`);
  return <span data-id={props.id}>{props.children ?? props.id}</span>;
}

function Thrower(): ReactNode {
  throw new Error('boundary failure');
}

/** A page with nested, slow and failing boundaries; each deferred resolves one level. */
function Page(props: { gates: Deferred<string>[]; inject: boolean }): ReactNode {
  const [a, b, c, d] = props.gates as [
    Deferred<string>,
    Deferred<string>,
    Deferred<string>,
    Deferred<string>,
  ];
  const Mark = props.inject
    ? Inject
    : (p: { id: string; children?: ReactNode }) => <span data-id={p.id}>{p.children ?? p.id}</span>;
  return (
    <Doc>
      <Mark id="shell" />
      <Boundary name="a">
        <Await promise={a.promise}>
          {(v) => (
            <div>
              <Mark id="a">{v}</Mark>
              {'x'.repeat(5000)}
              <Boundary name="a-nested">
                <Await promise={b.promise}>{(w) => <Mark id="a-nested">{w}</Mark>}</Await>
              </Boundary>
            </div>
          )}
        </Await>
      </Boundary>
      <Boundary name="slow">
        <Await promise={c.promise}>{(v) => <Mark id="slow">{v.repeat(3000)}</Mark>}</Await>
      </Boundary>
      <Boundary name="failing">
        <Await promise={d.promise}>{() => <Thrower />}</Await>
      </Boundary>
    </Doc>
  );
}

function gates(): Deferred<string>[] {
  return [deferred<string>(), deferred<string>(), deferred<string>(), deferred<string>()];
}

async function release(list: Deferred<string>[]): Promise<void> {
  const values = ['alpha', 'beta', 'gamma', 'delta'];
  for (let i = 0; i < list.length; i++) {
    await sleep(25);
    list[i]?.resolve(values[i] as string);
  }
}

/** Raw react-dom output, one string per batch (the writes between two `flush()` calls). */
function rawBatches(element: ReactNode): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const batches: string[] = [];
    let current = '';
    const out = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        current += chunk.toString('utf8');
        callback();
      },
      final(callback) {
        resolve(batches);
        callback();
      },
    });
    (out as Writable & { flush(): void }).flush = () => {
      if (current) batches.push(current);
      current = '';
    };
    const stream = renderToPipeableStream(element, {
      nonce: { script: NONCE, style: NONCE },
      onShellReady: () => stream.pipe(out),
      onShellError: reject,
      onError: () => {},
    });
  });
}

function countingPlugin(calls: string[]): KilnPlugin {
  return {
    name: 'counting',
    setup() {
      let n = 0;
      return {
        head: () => {
          calls.push('head');
          return '<style>/*head*/</style>';
        },
        flush: () => {
          calls.push('flush');
          return `<script>/*flush:${n++}*/</script>`;
        },
        end: async () => {
          calls.push('end');
          await sleep(5);
          return '<script>/*end:0*/</script>';
        },
        dispose: () => {
          calls.push('dispose');
        },
      };
    },
  };
}

/** Offsets (in the output with injections removed) where each injection was, and that output. */
function strip(html: string): { stripped: string; at: { marker: string; offset: number }[] } {
  const at: { marker: string; offset: number }[] = [];
  let stripped = '';
  let last = 0;
  for (const m of html.matchAll(INJECTED)) {
    stripped += html.slice(last, m.index);
    at.push({ marker: m[0], offset: stripped.length });
    last = m.index + m[0].length;
  }
  stripped += html.slice(last);
  return { stripped, at };
}

function boundariesOf(batches: string[]): Set<number> {
  const offsets = new Set<number>();
  let total = 0;
  for (const batch of batches) {
    total += batch.length;
    offsets.add(total);
  }
  return offsets;
}

describe('injection queue against real React streams', () => {
  test('Node: injections never split a React batch and the bytes React wrote are unchanged', async () => {
    const rawGates = gates();
    const rawPromise = rawBatches(<Page gates={rawGates} inject={false} />);
    await release(rawGates);
    const batches = await rawPromise;
    expect(batches.length).toBeGreaterThanOrEqual(4);

    const calls: string[] = [];
    const kilnGates = gates();
    const result = await renderToHtml(<Page gates={kilnGates} inject />, {
      mode: 'stream',
      nonce: NONCE,
      plugins: [countingPlugin(calls)],
      onError: () => {},
    });
    const rec = recorder();
    result.pipe(rec.stream);
    await release(kilnGates);
    const html = await rec.finished;

    const { stripped, at } = strip(html);
    // Without the injected tags, the document is byte for byte what React wrote.
    expect(stripped).toBe(batches.join(''));
    const raw = batches.join('');
    const headClose = raw.indexOf('</head>');
    const endOfBody = raw.length - '</body></html>'.length;
    const allowed = boundariesOf(batches);
    allowed.add(headClose);
    allowed.add(endOfBody);
    for (const { marker, offset } of at) {
      expect(allowed.has(offset), `${marker} at ${offset}`).toBe(true);
    }
    // head() went before </head>, end() right before </body></html>, nothing before React's first write.
    expect(at[0]).toEqual({ marker: '<style nonce="n0nce">/*head*/</style>', offset: headClose });
    expect(at.at(-1)).toEqual({
      marker: '<script nonce="n0nce">/*end:0*/</script>',
      offset: endOfBody,
    });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.endsWith('</body></html>')).toBe(true);
    expect(calls[0]).toBe('head');
    expect(calls.slice(-2)).toEqual(['end', 'dispose']);
  });

  test('every injection precedes the boundary markup rendered with it', async () => {
    const g = gates();
    const result = await renderToHtml(<Page gates={g} inject />, {
      mode: 'stream',
      nonce: NONCE,
      onError: () => {},
    });
    const rec = recorder();
    result.pipe(rec.stream);
    await release(g);
    const html = await rec.finished;
    for (const id of ['a', 'a-nested', 'slow']) {
      const injected = html.indexOf(`/*inj:${id}*/`);
      const markup = html.indexOf(`<span data-id="${id}">`);
      expect(injected, id).toBeGreaterThan(0);
      expect(markup, id).toBeGreaterThan(injected);
    }
    // The shell's own injection goes right after the shell, never before React's first write.
    expect(html.indexOf('/*inj:shell*/')).toBeGreaterThan(html.indexOf('<span data-id="shell">'));
  });

  test('Web: toResponse() streams the same bytes as renderToReadableStream, plus injections', async () => {
    const rawGates = gates();
    const rawStream = await renderToReadableStream(<Page gates={rawGates} inject={false} />, {
      nonce: { script: NONCE, style: NONCE },
      onError: () => {},
    });
    const rawText = new Response(rawStream).text();
    await release(rawGates);
    const raw = await rawText;

    const kilnGates = gates();
    const calls: string[] = [];
    const result = await renderToHtml(<Page gates={kilnGates} inject />, {
      mode: 'stream',
      nonce: NONCE,
      plugins: [countingPlugin(calls)],
      onError: () => {},
    });
    const response = result.toResponse();
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const text = response.text();
    await release(kilnGates);
    const { stripped } = strip(await text);
    expect(stripped).toBe(raw);
  });

  test('the end of the document waits for pending promises', async () => {
    const pending = deferred<void>();
    const events: string[] = [];
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Waiter(): ReactNode {
      const ctx = useRenderContext();
      ctx.waitFor(
        pending.promise.then(() => {
          events.push('settled');
          ctx.inject('<script>/*inj:late*/</script>');
        }),
      );
      return <p>waiting</p>;
    }
    const result = await renderToHtml(
      <Doc>
        <Waiter />
      </Doc>,
      { mode: 'stream', nonce: NONCE },
    );
    const rec = recorder();
    result.pipe(rec.stream);
    await sleep(50);
    expect(rec.ended).toBe(false);
    expect(rec.text()).not.toContain('</body>');
    pending.resolve();
    const html = await rec.finished;
    expect(events).toEqual(['settled']);
    expect(html.indexOf('/*inj:late*/')).toBeLessThan(html.indexOf('</body></html>'));
    expect(html.endsWith('</body></html>')).toBe(true);
  });

  test('a rejected waitFor promise is reported and does not hold the document', async () => {
    const errors: unknown[] = [];
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Waiter(): ReactNode {
      useRenderContext().waitFor(Promise.reject(new Error('late data failed')));
      return <p>x</p>;
    }
    const result = await renderToHtml(
      <Doc>
        <Waiter />
      </Doc>,
      { mode: 'stream', onError: (e) => errors.push(e) },
    );
    const html = await result.text();
    expect(html.endsWith('</body></html>')).toBe(true);
    expect(errors.map((e) => (e as Error).message)).toEqual(['late data failed']);
  });

  test('HTML injected between batches with no React batch following is written promptly', async () => {
    const late = deferred<void>();
    const gate = deferred<string>();
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Streamer(): ReactNode {
      const ctx = useRenderContext();
      ctx.waitFor(late.promise.then(() => ctx.inject('<script>/*inj:between*/</script>')));
      return null;
    }
    const result = await renderToHtml(
      <Doc>
        <Streamer />
        <Boundary name="g">
          <Await promise={gate.promise}>{(v) => <b>{v}</b>}</Await>
        </Boundary>
      </Doc>,
      { mode: 'stream', nonce: NONCE },
    );
    const rec = recorder();
    result.pipe(rec.stream);
    await sleep(10);
    late.resolve();
    await sleep(20);
    // Written while React still waits for the boundary: not held until the next batch.
    expect(rec.text()).toContain('/*inj:between*/');
    expect(rec.text()).not.toContain('<b>');
    gate.resolve('done');
    const html = await rec.finished;
    expect(html.indexOf('/*inj:between*/')).toBeLessThan(html.indexOf('<b>done</b>'));
  });
});
