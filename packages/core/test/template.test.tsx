import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { type ReactNode, useId } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import { type KilnError, type KilnPlugin, renderToHtml } from '../src/index';
import { Await, Boundary, deferred, recorder, sleep } from './helpers';

const VITE_TEMPLATE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <script type="module" src="/@vite/client"></script>
    <!--app-head-->
  </head>
  <body>
    <div id="root"><!--app-html--></div>
    <script type="module" src="/src/entry-client.tsx"></script>
  </body>
</html>
`;

function App(): ReactNode {
  const id = useId();
  return (
    <main data-id={id}>
      <title>Template page</title>
      <meta name="description" content="hoisted from the app" />
      <link rel="stylesheet" href="/app.css" precedence="default" />
      <h1>hello</h1>
    </main>
  );
}

function Empty(): ReactNode {
  return null;
}

const css: KilnPlugin = {
  name: 'css',
  setup: () => ({ head: () => '<style>h1{color:red}</style>' }),
};

describe('template mode', () => {
  for (const mode of ['stream', 'buffer'] as const) {
    test(`${mode}: hoisted tags and plugin head HTML land in the template head, the app in its container`, async () => {
      const nonce = 'dGVtcGxhdGU';
      const result = await renderToHtml(<App />, {
        template: VITE_TEMPLATE,
        mode,
        plugins: [css],
        nonce,
      });
      const html = await result.text();
      expect(html).not.toContain('data-kiln-app');
      expect(html).not.toContain('<!--app-');
      const doc = parseDocument(html);
      const head = findAll(doc, 'head')[0]!;
      const body = findAll(doc, 'body')[0]!;
      expect(findAll(head, 'title').length).toBe(1);
      expect(findAll(head, 'meta').map((m) => attr(m, 'name') ?? attr(m, 'charset'))).toEqual([
        'UTF-8',
        'description',
      ]);
      expect(findAll(head, 'link').map((l) => attr(l, 'href'))).toEqual(['/app.css']);
      expect(findAll(head, 'style')).toHaveLength(1);
      expect(findAll(body, 'title')).toHaveLength(0);
      expect(findAll(body, 'meta')).toHaveLength(0);
      const root = findAll(body, 'div').find((d) => attr(d, 'id') === 'root')!;
      expect(attr(root, 'data-kiln-root')).toBe('');
      expect(root.childNodes?.[0]?.tagName).toBe('main');
      // The template's own scripts get the nonce too.
      for (const script of findAll(doc, 'script')) expect(attr(script, 'nonce')).toBe(nonce);
      // The app markup is React's, for the tree shape hydrate() uses in template mode
      // (an empty slot before the app), so useId values match on the client.
      const alone = renderToString(
        <>
          <Empty />
          <App />
        </>,
      );
      expect(html).toContain(alone.slice(alone.indexOf('<main'), alone.indexOf('</main>')));
    });
  }

  test('streamed boundaries go into the container, the rest of the template after them', async () => {
    const gate = deferred<string>();
    // The boundary sits inside an element: React holds the shell back while a boundary at the
    // very top of a non-document tree is pending, since it might still render <html>/<body>.
    const result = await renderToHtml(
      <section>
        <Boundary name="late">
          <Await promise={gate.promise}>{(v) => <p id="late">{v}</p>}</Await>
        </Boundary>
      </section>,
      { template: VITE_TEMPLATE, mode: 'stream' },
    );
    const rec = recorder();
    result.pipe(rec.stream);
    await sleep(5);
    expect(rec.text()).toContain('<div data-kiln-root="" id="root">');
    expect(rec.text()).not.toContain('entry-client');
    gate.resolve('arrived');
    const html = await rec.finished;
    expect(html.indexOf('<p id="late">arrived</p>')).toBeLessThan(
      html.indexOf('</div>\n    <script type="module" src="/src/entry-client.tsx">'),
    );
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  test('without a head marker the head goes before </head>; custom markers work', async () => {
    const template = {
      html: '<html><head><title>t</title></head><body><section id="app">@@APP@@</section></body></html>',
      appMarker: '@@APP@@',
    };
    const html = await (await renderToHtml(<App />, { template, plugins: [css] })).text();
    expect(html).toContain('<style>h1{color:red}</style></head>');
    expect(html).toContain('<section data-kiln-root="" id="app"><main');
  });

  test('a template without an app marker gives a 500 with a clear error', async () => {
    const errors: unknown[] = [];
    const result = await renderToHtml(<App />, {
      template: '<html><head></head><body></body></html>',
      onError: (e) => errors.push(e),
    });
    expect(result.status).toBe(500);
    await result.text();
    expect((errors[0] as KilnError).code).toBe('KILN_INVALID_TEMPLATE');
  });
});

/** Hoists a style whose raw text is `text`, and shows `text` in the app. */
function Hostile(props: { text: string }): ReactNode {
  return (
    <main>
      <style href="hostile" precedence="default">
        {props.text}
      </style>
      <p>{props.text}</p>
    </main>
  );
}

describe('template mode: the app marker cannot be forged', () => {
  const FORGED = '<template data-kiln-app=""></template>';
  const ATTACK = `a{}${FORGED}<img src="x" onerror="alert(1)">`;

  for (const mode of ['stream', 'buffer'] as const) {
    test(`${mode}: data holding the marker inside a hoisted style, with a plugin writing </style>, stays text`, async () => {
      const result = await renderToHtml(<Hostile text={ATTACK} />, {
        template: VITE_TEMPLATE,
        mode,
        plugins: [css],
      });
      const html = await result.text();
      const doc = parseDocument(html);
      expect(findAll(doc, 'img')).toEqual([]);
      const body = findAll(doc, 'body')[0]!;
      const root = findAll(body, 'div').find((div) => attr(div, 'id') === 'root')!;
      expect(findAll(root, 'p').length).toBe(1);
      const styles = findAll(findAll(doc, 'head')[0]!, 'style');
      expect(styles.length).toBe(2);
      // The data reads back whole, as the raw text of its style and as the paragraph's text.
      expect(styles.map((style) => textOf(style))).toContain(ATTACK);
      expect(textOf(findAll(root, 'p')[0]!)).toBe(ATTACK);
    });
  }
});
