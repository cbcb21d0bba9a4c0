/** @jsxImportSource @emotion/react */
/**
 * The behavioural cases of emotion's server tests, ported to trees Kiln renders. Upstream:
 * emotion-js/emotion at 3c19ce5997f73960679e546af47801205631dfde (the commit of
 * @emotion/react 11.14.0, @emotion/cache 11.14.0, @emotion/server 11.11.0, @emotion/css
 * 11.13.5, as installed):
 *
 * - packages/server/test/{index,inline,stream,extract-critical-to-chunks}.test.js
 * - packages/react/__tests__/server.js and packages/react/__tests__/compat/server.js
 * - packages/react/__tests__/rehydration.js (the tests that render on the server)
 * - packages/css/test/instance/{inline,stream}.test.js with emotion-instance.js
 *
 * Each case builds its tree with fresh styles every time it is called: once per server render
 * (Kiln's, and emotion's own for comparison) and once in the browser before hydration. A case
 * is split into parts, the pieces of the body that the "late" renders put each behind its own
 * Suspense boundary. Upstream's `<CacheProvider value={cache}>` around a tree is Kiln's job
 * here (the plugin provides the cache given by `cache`); trees of `@emotion/css` instances keep
 * theirs, as upstream writes them.
 *
 * Not ported, having no server render (listed with the reason in docs/emotion.md):
 * rehydration.js › "cache created in render doesn't cause a hydration mismatch" and both
 * "initializing another Emotion instance should not move already moved styles elements"
 * (browser only, hand-written HTML or a `container`); css/test/instance/instance.test.js
 * (the instance's `container`; its invalid-key error is emotion's own, Kiln's key check has
 * its own test); css/test/instance/css.test.js (class names through react-test-renderer).
 */
import createCache, { type EmotionCache } from '@emotion/cache';
import createEmotion, { type Emotion } from '@emotion/css/create-instance';
import { ClassNames, css, Global, keyframes } from '@emotion/react';
import styled from '@emotion/styled';
import { Fragment, type ReactNode } from 'react';
import { BigComponent, getChunkComponents, getComponents } from './server-util';

/** One ported case. */
export interface UpstreamCase {
  /** A unique name (also the `?case=` of the browser test). */
  name: string;
  /** The upstream tests it stands for: `file › test name`. */
  sources: string[];
  /** The cache key. */
  key: string;
  /** A nonce set on the case's cache, emotion's own way; otherwise Kiln's render nonce is used. */
  cacheNonce?: string;
  /**
   * Fresh styles and the parts of the body; `cssGlobals` collects the names that the
   * `@emotion/css` instance's `injectGlobal` and `keyframes` insert (during the render too).
   */
  build(): { cache: EmotionCache; parts: ReactNode[]; cssGlobals?: Set<string> };
}

const upstream = (path: string, ...tests: string[]) => tests.map((test) => `${path} › ${test}`);

/** emotion-instance.js of packages/css/test/instance: a stylis plugin, a nonce and a key. */
function instanceOfCssTests(): Emotion {
  return createEmotion({
    stylisPlugins: [
      (element) => {
        if (element.type === 'decl' && element.value.startsWith('color:')) {
          element.value = 'color:hotpink;';
        }
      },
    ],
    nonce: 'some-nonce',
    key: 'some-key',
  });
}

function reactCase(
  name: string,
  test: string,
  render: () => ReactNode,
  options: { key?: string; cacheNonce?: string; path?: string } = {},
): UpstreamCase {
  const key = options.key ?? 'css';
  return {
    name,
    sources: upstream(
      options.path ?? 'packages/react/__tests__/server.js',
      ...(options.path ? [test] : [`ssr › ${test}`, `ssr with old api › ${test}`]),
    ),
    key,
    ...(options.cacheNonce ? { cacheNonce: options.cacheNonce } : {}),
    build: () => ({
      cache: createCache({ key, ...(options.cacheNonce ? { nonce: options.cacheNonce } : {}) }),
      parts: [<Fragment key="part">{render()}</Fragment>],
    }),
  };
}

/** The cases of packages/react/__tests__/server.js, by their upstream names. */
const reactServer: [string, () => ReactNode, string?][] = [
  ['basic', () => <div css={{ color: 'hotpink' }}>some hotpink text</div>],
  ['global', () => <Global styles={{ html: { backgroundColor: 'hotpink' } }} />],
  [
    'keyframes',
    () => {
      const animation = keyframes(css`
        from {
          color: green;
        }
        to {
          color: blue;
        }
      `);
      return <div css={{ animation: `1s ${animation}` }} />;
    },
  ],
  [
    'only render a style once with the css prop',
    () => (
      <div css={{ color: 'green' }}>
        <div css={{ color: 'hotpink' }} />
        <div css={{ color: 'hotpink' }} />
      </div>
    ),
  ],
  [
    'only render a style once with styled',
    () => {
      const SomeComponent = styled.div`
        color: hotpink;
      `;
      return (
        <div css={{ color: 'green' }}>
          <SomeComponent />
          <SomeComponent />
        </div>
      );
    },
  ],
  [
    'works with nonces',
    () => {
      const SomeComponent = styled.div`
        color: hotpink;
      `;
      return (
        <Fragment>
          <SomeComponent />
          <div css={{ color: 'hotpink' }} />
          <Global styles={{ html: { margin: 0, padding: 0, fontFamily: 'sans-serif' } }} />
        </Fragment>
      );
    },
    'some-nonce',
  ],
  [
    'global with keyframes',
    () => (
      <Global
        styles={{
          h1: {
            animation: `${keyframes({ 'from,to': { color: 'green' }, '50%': { color: 'hotpink' } })} 1s`,
          },
        }}
      />
    ),
  ],
  [
    'styled with keyframes',
    () => {
      const SomeComponent = styled.div({
        animation: `${keyframes({ 'from,to': { color: 'green' }, '50%': { color: 'hotpink' } })} 1s`,
      });
      return <SomeComponent />;
    },
  ],
  [
    'ClassNames',
    () => (
      <ClassNames>
        {({ css, cx }) => (
          <div
            className={css`
              color: hotpink;
            `}
          >
            <span
              className={cx(
                {
                  [css`
                    color: green;
                  `]: true,
                  something: false,
                  'other-class': true,
                },
                [
                  css`
                    color: yellowgreen;
                  `,
                ],
                undefined,
                null,
              )}
            />
            <span className={cx(css({ color: 'darkgreen' }), 'other-class')} />
          </div>
        )}
      </ClassNames>
    ),
  ],
];

const SERVER = 'packages/server/test';
const REHYDRATION = 'packages/react/__tests__/rehydration.js';
const COMPAT = 'packages/react/__tests__/compat/server.js';
const INSTANCE = 'packages/css/test/instance';

const cssCase = (
  name: string,
  sources: string[],
  parts: (emotion: Emotion) => ReactNode[],
  make: () => Emotion = () => createEmotion({ key: 'css' }),
): UpstreamCase => {
  const probe = make();
  return {
    name,
    sources,
    key: probe.cache.key,
    ...(probe.cache.nonce ? { cacheNonce: probe.cache.nonce } : {}),
    build: () => {
      const emotion = make();
      const cssGlobals = new Set<string>();
      for (const method of ['injectGlobal', 'keyframes'] as const) {
        const original = emotion[method] as (...args: unknown[]) => unknown;
        emotion[method] = ((...args: unknown[]) => {
          const before = new Set(Object.keys(emotion.cache.inserted));
          const result = original(...args);
          for (const name of Object.keys(emotion.cache.inserted)) {
            if (!before.has(name)) cssGlobals.add(name);
          }
          return result;
        }) as never;
      }
      return {
        cache: emotion.cache,
        cssGlobals,
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts are fixed
        parts: parts(emotion).map((part, index) => <Fragment key={index}>{part}</Fragment>),
      };
    },
  };
};

/** Every ported case. */
export const cases: UpstreamCase[] = [
  cssCase(
    'server: Page1 and Page2 of getComponents',
    [
      ...upstream(`${SERVER}/index.test.js`, 'extractCritical › returns static css'),
      ...upstream(`${SERVER}/inline.test.js`, 'renderStylesToString › renders styles with ids'),
      ...upstream(`${SERVER}/stream.test.js`, 'renderStylesToNodeStream › renders styles with ids'),
    ],
    (emotion) => {
      const { page1, page2 } = getComponents(emotion);
      return [page1(), page2()];
    },
  ),
  cssCase(
    'server: Page1 hydrates',
    [
      ...upstream(
        `${SERVER}/index.test.js`,
        'hydration › only rules that are not in the critical css are inserted',
      ),
      ...upstream(
        `${SERVER}/inline.test.js`,
        'hydration › only inserts rules that are not in the critical css',
      ),
      ...upstream(
        `${SERVER}/stream.test.js`,
        'hydration › only inserts rules that are not in the critical css',
      ),
    ],
    (emotion) => [getComponents(emotion).page1()],
  ),
  cssCase(
    'server: a styled element with an nth-child selector',
    upstream(
      `${SERVER}/index.test.js`,
      'extractCritical › does not warn when using extract critical',
    ),
    () => {
      const WithNthSelector = styled('div')({ ':nth-child(1)': {} });
      return [<WithNthSelector key="nth" />];
    },
  ),
  cssCase(
    'server: skip undefined styles',
    upstream(`${SERVER}/inline.test.js`, 'renderStylesToString › skip undefined styles'),
    (emotion) => {
      const style = emotion.css`
        color: red;
      `;
      // biome-ignore lint/a11y/useAnchorContent: upstream's element, as it is
      return [<a key="a" href={`${emotion.cache.key}-fail`} className={style} />];
    },
  ),
  cssCase(
    'server: large recursive component',
    [
      ...upstream(
        `${SERVER}/inline.test.js`,
        'renderStylesToString › renders large recursive component',
      ),
      ...upstream(
        `${SERVER}/stream.test.js`,
        'renderStylesToNodeStream › renders large recursive component',
      ),
    ],
    (emotion) => [
      <BigComponent key="a" emotion={emotion} count={200} />,
      <BigComponent key="b" emotion={emotion} count={20} />,
    ],
  ),
  // Page1 and Page2 are separate renders upstream: both hold the same <Global>, which emotion's
  // browser code would insert a second time if they were on one page (rehydration.js).
  ...(['page1', 'page2'] as const).map((page) =>
    cssCase(
      `server: Globals next to an instance (chunks, ${page})`,
      upstream(
        `${SERVER}/extract-critical-to-chunks.test.js`,
        'extractCriticalToChunks › returns static css',
        'extractCriticalToChunks › generates correct style tags using constructStyleTagsFromChunks',
      ),
      (emotion) => [getChunkComponents(emotion)[page]()],
    ),
  ),
  ...reactServer.map(([name, render, cacheNonce]) =>
    reactCase(`react: ${name}`, name, render, cacheNonce ? { cacheNonce } : {}),
  ),
  {
    name: 'react: every server.js case in one page',
    sources: upstream(
      'packages/react/__tests__/server.js',
      'ssr › (all cases but the nonce one, each a part)',
    ),
    key: 'css',
    build: () => ({
      cache: createCache({ key: 'css' }),
      parts: reactServer
        .filter(([, , nonce]) => !nonce)
        .map(([name, render]) => <Fragment key={name}>{render()}</Fragment>),
    }),
  },
  reactCase('compat: it works', 'it works', () => <div css={{ color: 'hotpink' }} />, {
    key: 'ssr',
    path: COMPAT,
  }),
  reactCase(
    'compat: Global is extracted',
    'Global component extracts the styles rather than inlines it',
    () => (
      <Fragment>
        <div css={{ color: 'hotpink' }} />
        <Global styles={{ html: { color: 'green' } }} />
      </Fragment>
    ),
    { key: 'ssr', path: COMPAT },
  ),
  ...['ssr-first-key', 'ssr-second-key'].map((key) =>
    reactCase(
      `compat: multiple caches (${key})`,
      'extracted rules have correct keys when dealing with multiple caches',
      () => <div css={{ color: 'rebeccapurple' }} />,
      { key, path: COMPAT },
    ),
  ),
  {
    name: 'rehydration: Globals and classes (chunks)',
    sources: upstream(
      REHYDRATION,
      'global styles can be removed individually after rehydrating HTML SSRed with extractCriticalToChunks',
    ),
    key: 'mui',
    build: () => ({
      cache: createCache({ key: 'mui' }),
      parts: [
        <Global key="g1" styles={{ body: { color: 'white' } }} />,
        <Global key="g2" styles={{ html: { background: 'red' } }} />,
        <main key="main" css={{ color: 'green' }}>
          <div css={{ color: 'hotpink' }} />
        </main>,
      ],
    }),
  },
  ...[
    [
      'muii',
      'duplicated global styles can be removed safely after rehydrating HTML SSRed with extractCriticalToChunks',
    ],
    [
      'globcop',
      'duplicated global styles can be removed safely after rehydrating HTML SSRed with zero config approach',
    ],
  ].map(
    ([key, test]): UpstreamCase => ({
      name: `rehydration: the same Global twice (${key})`,
      sources: upstream(REHYDRATION, test!),
      key: key!,
      build: () => ({
        cache: createCache({ key: key! }),
        parts: [
          <Global key="g1" styles={{ body: { color: 'white' } }} />,
          <Global key="g2" styles={{ body: { color: 'white' } }} />,
          <div key="div" css={{ color: 'hotpink' }} />,
        ],
      }),
    }),
  ),
  cssCase(
    'instance: Page1 and Page2 with a stylis plugin, a nonce and a key',
    [
      ...upstream(
        `${INSTANCE}/inline.test.js`,
        'renderStylesToString › renders styles with ids',
        'hydration › only inserts rules that are not in the critical css',
      ),
      ...upstream(
        `${INSTANCE}/stream.test.js`,
        'renderStylesToNodeStream › renders styles with ids',
        'hydration › only inserts rules that are not in the critical css',
      ),
    ],
    (emotion) => {
      const { page1, page2 } = getComponents(emotion);
      return [page1(), page2()];
    },
    instanceOfCssTests,
  ),
  cssCase(
    'instance: large recursive component',
    [
      ...upstream(
        `${INSTANCE}/inline.test.js`,
        'renderStylesToString › renders large recursive component',
      ),
      ...upstream(
        `${INSTANCE}/stream.test.js`,
        'renderStylesToNodeStream › renders large recursive component',
      ),
    ],
    (emotion) => [<BigComponent key="big" emotion={emotion} count={200} />],
    instanceOfCssTests,
  ),
];
