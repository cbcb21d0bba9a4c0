import { request as httpRequest } from 'node:http';
import { listen } from '@kiln/test-utils';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  type KilnError,
  type KilnPlugin,
  type RenderContext,
  type RenderErrorInfo,
  renderToHtml,
} from '../src/index';
import { Await, Boundary, Doc, deferred, recorder, sleep } from './helpers';

function collector(): {
  errors: { error: unknown; info: RenderErrorInfo }[];
  onError: (error: unknown, info: RenderErrorInfo) => void;
} {
  const errors: { error: unknown; info: RenderErrorInfo }[] = [];
  return { errors, onError: (error, info) => errors.push({ error, info }) };
}

function ShellBomb(): ReactNode {
  throw new Error('database password is hunter2');
}

/** Records what a plugin instance sees: its signal and whether dispose ran. */
function probe(): {
  plugin: KilnPlugin;
  seen: { ctx?: RenderContext; disposed: number; reason?: unknown };
} {
  const seen: { ctx?: RenderContext; disposed: number; reason?: unknown } = { disposed: 0 };
  return {
    seen,
    plugin: {
      name: 'probe',
      setup(ctx) {
        seen.ctx = ctx;
        ctx.signal.addEventListener('abort', () => {
          seen.reason = ctx.signal.reason;
        });
        return { dispose: () => void seen.disposed++ };
      },
    },
  };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('shell errors', () => {
  test('development: a 500 error document with message and stack, reported once, never thrown', async () => {
    vi.stubEnv('NODE_ENV', 'development');
    const { errors, onError } = collector();
    const { plugin, seen } = probe();
    const result = await renderToHtml(
      <Doc>
        <ShellBomb />
      </Doc>,
      { onError, plugins: [plugin] },
    );
    expect(result.status).toBe(500);
    const html = await result.text();
    expect(html).toContain('database password is hunter2');
    expect(html).toContain('ShellBomb');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.info.phase).toBe('shell');
    await result.finished;
    expect(seen.disposed).toBe(1);
  });

  test('production: no message and no stack reach the visitor', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    const { errors, onError } = collector();
    const result = await renderToHtml(
      <Doc>
        <ShellBomb />
      </Doc>,
      { onError },
    );
    expect(result.status).toBe(500);
    const html = await result.text();
    expect(html).not.toContain('hunter2');
    expect(html).not.toContain('ShellBomb');
    expect(html).not.toContain('    at ');
    expect(html).toContain('500');
    expect(errors).toHaveLength(1);
  });

  test('a custom error document', async () => {
    const result = await renderToHtml(<ShellBomb />, {
      onError: () => {},
      errorDocument: (error, info) =>
        `<!DOCTYPE html><p>${info.status} ${info.dev} ${(error as Error).message}</p>`,
    });
    expect(await result.text()).toBe('<!DOCTYPE html><p>500 true database password is hunter2</p>');
  });
});

describe('boundary errors', () => {
  test('are reported with the component stack and left for the client to retry', async () => {
    const { errors, onError } = collector();
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Broken(): ReactNode {
      throw new Error('broken widget');
    }
    const result = await renderToHtml(
      <Doc>
        <h1>fine</h1>
        <Boundary name="broken">
          <Await promise={sleep(5)}>{() => <Broken />}</Await>
        </Boundary>
      </Doc>,
      { onError, mode: 'stream' },
    );
    const html = await result.text();
    expect(result.status).toBe(200);
    expect(html).toContain('<h1>fine</h1>');
    expect(html).toContain('$RX');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.info.phase).toBe('boundary');
    expect(errors[0]?.info.componentStack).toContain('Broken');
  });
});

describe('timeouts and abort', () => {
  test('timeoutMs aborts React: pending boundaries fall back, the response completes, plugins see the signal', async () => {
    const { errors, onError } = collector();
    const { plugin, seen } = probe();
    const result = await renderToHtml(
      <Doc>
        <h1>shell</h1>
        <Boundary name="never">
          <Await promise={new Promise<string>(() => {})}>{(v) => <p>{v}</p>}</Await>
        </Boundary>
      </Doc>,
      { onError, timeoutMs: 30, mode: 'stream', plugins: [plugin] },
    );
    const html = await result.text();
    expect(html).toContain('data-fallback="never"');
    expect(html).toContain('$RX');
    expect(html.endsWith('</body></html>')).toBe(true);
    expect(errors.map((e) => [e.info.phase, (e.error as KilnError).code])).toEqual([
      ['timeout', 'KILN_TIMEOUT'],
    ]);
    expect(seen.ctx?.signal.aborted).toBe(true);
    expect((seen.reason as KilnError).code).toBe('KILN_TIMEOUT');
    expect((seen.reason as KilnError).message).toMatch(
      /did not finish within 30 ms; pending Suspense boundaries fall back to client rendering/,
    );
    await result.finished;
    expect(seen.disposed).toBe(1);
  });

  test('buffer mode with a timeout still resolves, with fallbacks', async () => {
    const result = await renderToHtml(
      <Doc>
        <Boundary name="never">
          <Await promise={new Promise<string>(() => {})}>{(v) => <p>{v}</p>}</Await>
        </Boundary>
      </Doc>,
      { onError: () => {}, timeoutMs: 30, mode: 'buffer' },
    );
    expect(result.status).toBe(200);
    expect(await result.text()).toContain('data-fallback="never"');
  });

  test('the caller’s signal aborts the render', async () => {
    const { errors, onError } = collector();
    const controller = new AbortController();
    const { plugin, seen } = probe();
    const result = await renderToHtml(
      <Doc>
        <Boundary name="slow">
          <Await promise={new Promise<string>(() => {})}>{(v) => <p>{v}</p>}</Await>
        </Boundary>
      </Doc>,
      { onError, signal: controller.signal, mode: 'stream', plugins: [plugin] },
    );
    const text = result.text();
    controller.abort(new Error('shutting down'));
    const html = await text;
    expect(html).toContain('data-fallback="slow"');
    expect(html.endsWith('</body></html>')).toBe(true);
    const error = errors[0]?.error as KilnError;
    expect(error.code).toBe('KILN_ABORTED');
    expect((error.cause as Error).message).toBe('shutting down');
    expect(errors[0]?.info.phase).toBe('abort');
    expect((seen.reason as KilnError).code).toBe('KILN_ABORTED');
  });

  test('a timeout before the shell is ready gives a 500 document', async () => {
    const { errors, onError } = collector();
    const result = await renderToHtml(
      <Doc>
        <Await promise={new Promise<string>(() => {})}>{(v) => <p>{v}</p>}</Await>
      </Doc>,
      { onError, timeoutMs: 20 },
    );
    expect(result.status).toBe(500);
    expect(await result.text()).toContain('500');
    expect(errors.map((e) => e.info.phase)).toEqual(['timeout']);
  });
});

describe('client disconnect', () => {
  test('Node: closing the connection aborts the render, no render work continues, plugins see the signal', async () => {
    const { plugin, seen } = probe();
    const gate = deferred<string>();
    let lateRenders = 0;
    const finished = deferred<void>();
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Late(props: { value: string }): ReactNode {
      lateRenders++;
      return <p>{props.value}</p>;
    }
    const { errors, onError } = collector();
    const server = await listen(async (req, res) => {
      const result = await renderToHtml(
        <Doc>
          <h1>shell</h1>
          <Boundary name="late">
            <Await promise={gate.promise}>{(v) => <Late value={v} />}</Await>
          </Boundary>
        </Doc>,
        { request: req, plugins: [plugin], mode: 'stream', onError },
      );
      result.pipe(res);
      void result.finished.then(() => finished.resolve());
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(server.url, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.once('error', reject);
        req.end();
      });
      await finished.promise;
      expect(seen.ctx?.signal.aborted).toBe(true);
      expect((seen.reason as KilnError).code).toBe('KILN_CLIENT_DISCONNECTED');
      expect(seen.disposed).toBe(1);
      gate.resolve('too late');
      await sleep(30);
      expect(lateRenders).toBe(0);
      expect(errors.map((e) => e.info.phase)).toEqual(['abort']);
    } finally {
      await server.close();
    }
  });

  test('Node: finished resolves after the disconnect was reported, with complete diagnostics', async () => {
    const gate = deferred<string>();
    const { errors, onError } = collector();
    const atFinish = deferred<{ phases: string[]; allReadyMs: number | undefined }>();
    const server = await listen(async (req, res) => {
      const result = await renderToHtml(
        <Doc>
          <h1>shell</h1>
          <Boundary name="late">
            <Await promise={gate.promise}>{(v) => <p>{v}</p>}</Await>
          </Boundary>
        </Doc>,
        { request: req, mode: 'stream', onError },
      );
      result.pipe(res);
      void result.finished.then((d) =>
        atFinish.resolve({ phases: errors.map((e) => e.info.phase), allReadyMs: d.allReadyMs }),
      );
    });
    try {
      const req = httpRequest(server.url, (res) => res.once('data', () => req.destroy()));
      req.on('error', () => {});
      req.end();
      // React reports what an abort cut short one macrotask later; finished waits for it.
      expect(await atFinish.promise).toEqual({ phases: ['abort'], allReadyMs: expect.any(Number) });
      gate.resolve('too late');
    } finally {
      await server.close();
    }
  });

  test('Web: cancelling the response body aborts the render', async () => {
    const { plugin, seen } = probe();
    const result = await renderToHtml(
      <Doc>
        <Boundary name="never">
          <Await promise={new Promise<string>(() => {})}>{(v) => <p>{v}</p>}</Await>
        </Boundary>
      </Doc>,
      { plugins: [plugin], mode: 'stream', onError: () => {} },
    );
    const reader = result.toResponse().body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('<!DOCTYPE html>');
    await reader.cancel();
    await result.finished;
    expect((seen.reason as KilnError).code).toBe('KILN_CLIENT_DISCONNECTED');
    expect(seen.disposed).toBe(1);
  });

  test('nothing is left running after many renders (timers, listeners)', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    for (let i = 0; i < 20; i++) {
      const gate = deferred<string>();
      const result = await renderToHtml(
        <Doc>
          <Boundary name="g">
            <Await promise={gate.promise}>{(v) => <p>{v}</p>}</Await>
          </Boundary>
        </Doc>,
        { mode: 'stream' },
      );
      const rec = recorder();
      result.pipe(rec.stream);
      gate.resolve('x');
      await rec.finished;
      await result.finished;
    }
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBeLessThanOrEqual(before);
  });
});

describe('plugins and the timeout', () => {
  test('a prepare() that never settles cannot outlive timeoutMs', async () => {
    const { errors, onError } = collector();
    const { plugin, seen } = probe();
    const stuck: KilnPlugin = {
      name: 'stuck',
      setup: () => ({ prepare: () => new Promise<void>(() => {}) }),
    };
    const result = await renderToHtml(
      <Doc>
        <p>never rendered</p>
      </Doc>,
      { onError, timeoutMs: 30, plugins: [plugin, stuck] },
    );
    expect(result.status).toBe(500);
    expect(errors.map((e) => (e.error as KilnError).code)).toEqual(['KILN_TIMEOUT']);
    // The message says what the visitor got: the error document, not a client-rendered page.
    expect((errors[0]!.error as KilnError).message).toMatch(
      /the shell was not ready: .* makes the response the 500 error document/,
    );
    await result.text();
    await result.finished;
    expect(seen.disposed).toBe(1);
  });
});
