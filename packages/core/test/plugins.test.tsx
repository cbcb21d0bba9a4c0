import { createContext, type ReactNode, useContext } from 'react';
import { describe, expect, test } from 'vitest';
import {
  type KilnError,
  type KilnPlugin,
  type RenderErrorInfo,
  renderToHtml,
  useRenderContext,
} from '../src/index';
import { Await, Boundary, Doc, deferred, recorder } from './helpers';

const Trail = createContext<string[]>([]);

function ShowTrail(): ReactNode {
  return <p id="trail">{useContext(Trail).join('>')}</p>;
}

function tracer(
  name: string,
  calls: string[],
  extra: Partial<ReturnType<KilnPlugin['setup']>> = {},
): KilnPlugin {
  return {
    name,
    setup(ctx) {
      calls.push(`${name}.setup:${ctx.mode}`);
      return {
        wrap(app) {
          calls.push(`${name}.wrap`);
          return <TrailProvider name={name}>{app}</TrailProvider>;
        },
        async prepare(app, prepareCtx) {
          calls.push(`${name}.prepare:${prepareCtx === ctx}:${app !== null}`);
        },
        head() {
          calls.push(`${name}.head`);
          return '';
        },
        flush() {
          calls.push(`${name}.flush`);
          return '';
        },
        end() {
          calls.push(`${name}.end`);
          return '';
        },
        dispose() {
          calls.push(`${name}.dispose`);
        },
        diagnostics: () => ({ custom: name.length }),
        ...extra,
      };
    },
  };
}

function TrailProvider(props: { name: string; children: ReactNode }): ReactNode {
  const outer = useContext(Trail);
  return <Trail.Provider value={[...outer, props.name]}>{props.children}</Trail.Provider>;
}

describe('plugins', () => {
  test('phases run in order; the first plugin wraps outermost; diagnostics per plugin', async () => {
    const calls: string[] = [];
    const gate = deferred<string>();
    const result = await renderToHtml(
      <Doc>
        <ShowTrail />
        <Boundary name="g">
          <Await promise={gate.promise}>{(v) => <b>{v}</b>}</Await>
        </Boundary>
      </Doc>,
      { plugins: [tracer('outer', calls), tracer('inner', calls)], mode: 'stream' },
    );
    const rec = recorder();
    result.pipe(rec.stream);
    gate.resolve('go');
    const html = await rec.finished;
    const diagnostics = await result.finished;
    expect(html).toContain('<p id="trail">outer&gt;inner</p>');
    expect(calls).toEqual([
      'outer.setup:stream',
      'inner.setup:stream',
      'inner.wrap',
      'outer.wrap',
      'outer.prepare:true:true',
      'inner.prepare:true:true',
      'outer.head',
      'inner.head',
      'outer.flush',
      'inner.flush',
      'outer.flush',
      'inner.flush',
      'outer.end',
      'inner.end',
      'outer.dispose',
      'inner.dispose',
    ]);
    expect(diagnostics.plugins.outer).toMatchObject({ custom: 5 });
    expect(diagnostics.plugins.inner?.ms).toBeTypeOf('number');
  });

  test('a plugin that throws in setup gives a 500 and an error naming the plugin; dispose still runs for the others', async () => {
    const calls: string[] = [];
    const errors: { error: unknown; info: RenderErrorInfo }[] = [];
    const broken: KilnPlugin = {
      name: 'broken',
      setup() {
        throw new Error('missing option');
      },
    };
    const result = await renderToHtml(
      <Doc>
        <p>x</p>
      </Doc>,
      {
        plugins: [tracer('first', calls), broken],
        onError: (error, info) => errors.push({ error, info }),
      },
    );
    expect(result.status).toBe(500);
    await result.text();
    await result.finished;
    expect(errors).toHaveLength(1);
    const error = errors[0]?.error as KilnError;
    expect(error.code).toBe('KILN_PLUGIN_ERROR');
    expect(error.message).toBe(
      '[kiln/core] plugin "broken" threw in setup(): missing option; the error is attached as its cause, with its stack: look there for where it was thrown (the plugin, its options, or a package it loads)',
    );
    expect(errors[0]?.info).toMatchObject({ phase: 'plugin', plugin: 'broken' });
    expect(calls).toContain('first.dispose');
  });

  test('a plugin that throws in head or flush is reported; the page is still sent', async () => {
    const errors: { error: unknown; info: RenderErrorInfo }[] = [];
    const flaky: KilnPlugin = {
      name: 'flaky',
      setup: () => ({
        head() {
          throw new Error('head failed');
        },
        end: async () => {
          throw new Error('end failed');
        },
      }),
    };
    const result = await renderToHtml(
      <Doc>
        <p>still here</p>
      </Doc>,
      { plugins: [flaky], onError: (error, info) => errors.push({ error, info }) },
    );
    const html = await result.text();
    expect(html).toContain('still here');
    expect(html.endsWith('</body></html>')).toBe(true);
    expect(errors.map((e) => [e.info.phase, e.info.plugin, (e.error as Error).message])).toEqual([
      [
        'plugin',
        'flaky',
        '[kiln/core] plugin "flaky" threw in head(): head failed; the error is attached as its cause, with its stack: look there for where it was thrown (the plugin, its options, or a package it loads)',
      ],
      [
        'plugin',
        'flaky',
        '[kiln/core] plugin "flaky" threw in end(): end failed; the error is attached as its cause, with its stack: look there for where it was thrown (the plugin, its options, or a package it loads)',
      ],
    ]);
  });

  test('dispose runs on a shell error, and an async end() may wait for work', async () => {
    const calls: string[] = [];
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Bomb(): ReactNode {
      throw new Error('shell');
    }
    const failed = await renderToHtml(<Bomb />, {
      plugins: [tracer('p', calls)],
      onError: () => {},
    });
    await failed.text();
    await failed.finished;
    expect(calls.filter((c) => c.endsWith('dispose'))).toEqual(['p.dispose']);

    const late = deferred<string>();
    const waiting: KilnPlugin = {
      name: 'waiting',
      setup: () => ({ end: () => late.promise }),
    };
    const result = await renderToHtml(
      <Doc>
        <p>x</p>
      </Doc>,
      { plugins: [waiting], nonce: 'ZW5k' },
    );
    const text = result.text();
    setTimeout(() => late.resolve('<script>window.done=1</script>'), 20);
    expect(await text).toContain('<script nonce="ZW5k">window.done=1</script></body></html>');
  });

  test('setState from a plugin and from components, with serialize’s rich types', async () => {
    const withState: KilnPlugin = {
      name: 'state',
      setup(ctx) {
        ctx.setState('fromPlugin', new Map([['k', new Date(0)]]));
        return {};
      },
    };
    // biome-ignore lint/correctness/noComponentHookFactories: a test component that closes over its test's state
    function Component(): ReactNode {
      useRenderContext().setState('fromComponent', {
        big: 10n,
        tag: '</script><script>alert(1)</script>',
      });
      return <p>c</p>;
    }
    const html = await (
      await renderToHtml(
        <Doc>
          <Component />
        </Doc>,
        { plugins: [withState] },
      )
    ).text();
    expect(html).toContain('data-kiln-state="fromPlugin"');
    expect(html).toContain('data-kiln-state="fromComponent"');
    expect(html).not.toContain('</script><script>alert(1)');
  });

  test('inject after the end is reported and dropped', async () => {
    const errors: unknown[] = [];
    let saved: ((html: string) => void) | undefined;
    const plugin: KilnPlugin = {
      name: 'late',
      setup(ctx) {
        saved = (html) => ctx.inject(html);
        return {};
      },
    };
    const result = await renderToHtml(
      <Doc>
        <p>x</p>
      </Doc>,
      { plugins: [plugin], onError: (e) => errors.push(e) },
    );
    await result.text();
    await result.finished;
    saved?.('<script>late()</script>');
    expect((errors[0] as KilnError).code).toBe('KILN_INJECT_AFTER_END');
  });
});
