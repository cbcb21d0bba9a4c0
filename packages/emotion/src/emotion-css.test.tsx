import createEmotion from '@emotion/css/create-instance';
import createEmotionServer from '@emotion/server/create-instance';
import { renderToHtml } from '@kiln/core';
import { attr, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Document } from '../test/app';
import { emotionCssPage } from '../test/emotion-css-page';
import { getChunkComponents } from '../test/upstream/server-util';
import { emotion } from './plugin';

function emotionStyles(html: string) {
  return findAll(parseDocument(html), 'style')
    .filter((node) => attr(node, 'data-emotion') !== undefined)
    .map((node) => ({ dataEmotion: attr(node, 'data-emotion')!, css: textOf(node) }));
}

/** The ids of the style elements emotion's browser cache adopts (`data-emotion="<key> <ids…>"`). */
const cacheIds = (html: string, key: string) =>
  emotionStyles(html)
    .filter((style) => style.dataEmotion.startsWith(`${key} `))
    .flatMap((style) => style.dataEmotion.split(' ').slice(1));

describe('@emotion/css instances through the cache option', () => {
  for (const mode of ['buffer', 'stream'] as const) {
    it(`${mode}: injectGlobal and keyframes go out as renderStylesToString writes them, adopted by the cache`, async () => {
      const instance = createEmotion({ key: 'css' });
      const Page = emotionCssPage(instance);
      const result = await renderToHtml(<Page />, {
        mode,
        plugins: [emotion({ cache: () => instance.cache })],
      });
      const html = await result.text();
      // emotion's own server API for a custom instance, on the same tree and a fresh instance.
      const reference = createEmotion({ key: 'css' });
      const ReferencePage = emotionCssPage(reference);
      const inline = createEmotionServer(reference.cache).renderStylesToString(
        renderToString(<ReferencePage />),
      );
      const expected = cacheIds(inline, 'css');
      expect(expected.length).toBeGreaterThan(8);
      expect(inline).not.toContain('css-global');
      const ours = cacheIds(html, 'css');
      for (const id of expected) expect(ours).toContain(id);
      expect(html).not.toContain('css-global');
      // Globals made before and during the render are among them, each once.
      const css = emotionStyles(html)
        .map((s) => s.css)
        .join('');
      for (const needle of ['@font-face', '.no-prefix{', '.some-global-2{', '.spinner-host{']) {
        expect(css.split(needle)).toHaveLength(2);
      }
    });
  }

  it('a <Global> next to an instance still goes out for the <Global> to claim', async () => {
    const instance = createEmotion({ key: 'css' });
    const { page1 } = getChunkComponents(instance);
    const result = await renderToHtml(<Document>{page1()}</Document>, {
      mode: 'buffer',
      plugins: [emotion({ cache: () => instance.cache })],
    });
    const globals = emotionStyles(await result.text()).filter((s) =>
      s.dataEmotion.startsWith('css-global '),
    );
    expect(globals.map((s) => s.css)).toEqual(['body{color:white;}', 'html{background:red;}']);
  });
});
