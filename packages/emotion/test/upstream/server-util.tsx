/**
 * Port of the fixtures of emotion's server tests: `getComponents` and `createBigComponent` of
 * `packages/server/test/util.js`, and the components of
 * `packages/server/test/extract-critical-to-chunks.test.js`, emotion-js/emotion at
 * 3c19ce5997f73960679e546af47801205631dfde (@emotion/react 11.14.0, @emotion/server 11.11.0,
 * @emotion/css 11.13.5).
 *
 * Components defined inside upstream's factories are written here as functions returning the
 * tree (`page1()`) or as module-level components taking the instance as a prop; `<Image>`
 * gets `width` where upstream passes `size`.
 *
 * Each function takes an `@emotion/css` instance: on the server it is created per request (its
 * cache is the one given to Kiln's `cache` option), in the browser once before hydration, as
 * emotion's tests do with `jest.resetModules()`.
 */
import type { Emotion } from '@emotion/css/create-instance';
import { CacheProvider, Global } from '@emotion/react';
import styled from '@emotion/styled';
import type { ReactNode } from 'react';

/** `hoverStyles` and `Main` of both fixtures: an instance class composed into a styled element. */
function hoverMain({ css }: Emotion) {
  const hoverStyles = css`
    color: hotpink;
    &:hover {
      color: white;
      background-color: lightgray;
      border-color: aqua;
      box-shadow:
        -15px -15px 0 0 aqua,
        -30px -30px 0 0 cornflowerblue;
    }
    label: hoverStyles;
  `;
  return styled('main')`
    ${hoverStyles};
    display: flex;
    label: Something_Main;
  `;
}

/** The pages of a fixture, as functions returning their tree (emotion's `Page1`, `Page2`). */
export interface Pages {
  page1(): ReactNode;
  page2(): ReactNode;
}

/** `getComponents` of util.js: globals, keyframes and classes of the instance, used by styled components. */
export function getComponents(emotion: Emotion): Pages {
  const { injectGlobal, keyframes, css } = emotion;
  const color = 'red';

  injectGlobal`
    @font-face {
      font-family: 'Patrick Hand SC';
      font-style: normal;
      font-weight: 400;
      src: local('Patrick Hand SC'), local('PatrickHandSC-Regular'),
        url(https://fonts.gstatic.com/s/patrickhandsc/v4/OYFWCgfCR-7uHIovjUZXsZ71Uis0Qeb9Gqo8IZV7ckE.woff2)
          format('woff2');
      unicode-range: U+0100-024f, U+1-1eff, U+20a0-20ab, U+20ad-20cf,
        U+2c60-2c7f, U+A720-A7FF;
    }
  `;

  const bounce = keyframes`
    from,
    20%,
    53%,
    80%,
    to {
      animation-timing-function: cubic-bezier(0.215, 0.61, 0.355, 1);
      transform: translate3d(0, 0, 0);
    }

    40%,
    43% {
      animation-timing-function: cubic-bezier(0.755, 0.05, 0.855, 0.06);
      transform: translate3d(0, -30px, 0);
    }

    70% {
      animation-timing-function: cubic-bezier(0.755, 0.05, 0.855, 0.06);
      transform: translate3d(0, -15px, 0);
    }

    90% {
      transform: translate3d(0, -4px, 0);
    }
    label: bounce;
  `;

  const Main = hoverMain(emotion);

  const Image = styled('img')`
    animation: ${bounce};
    border-radius: 50%;
    height: 50px;
    width: 50px;
    background-color: ${color};
    label: Image;
  `;

  // Not used by the pages (emotion's extractCritical leaves it out).
  css`
    display: none;
  `;

  injectGlobal`
    .no-prefix {
      display: flex;
      justify-content: center;
    }
  `;

  const page1 = () => (
    <CacheProvider value={emotion.cache}>
      <Main>
        <Image alt="" width={30} />
        <Image alt="" width={100} />
        <Image alt="" />
      </Main>
    </CacheProvider>
  );

  const page2 = () => (
    <CacheProvider value={emotion.cache}>
      <Main>
        <div>Hello</div>
      </Main>
    </CacheProvider>
  );
  return { page1, page2 };
}

const maxColors = 16 ** 6;

/**
 * `createBigComponent` of util.js, as a component taking the instance: a recursive component
 * calling `injectGlobal` and `css` while it renders.
 */
export function BigComponent({ emotion, count }: { emotion: Emotion; count: number }): ReactNode {
  if (count === 0) return null;
  emotion.injectGlobal`
    .some-global-${count} {
      padding: 0;
      margin: ${count};
    }`;
  return (
    <div
      className={emotion.css({
        color: `#${Math.round((1 / count) * maxColors)
          .toString(16)
          .padStart(6, '0')}`,
      })}
    >
      woah there
      <span>hello world</span>
      <BigComponent emotion={emotion} count={count - 1} />
    </div>
  );
}

/** The components of extract-critical-to-chunks.test.js: `<Global>`s next to instance classes. */
export function getChunkComponents(emotion: Emotion): Pages {
  const Main = hoverMain(emotion);
  const page1 = () => (
    <CacheProvider value={emotion.cache}>
      <Global styles={{ body: { color: 'white' } }} />
      <Global styles={{ html: { background: 'red' } }} />
      <Main />
    </CacheProvider>
  );
  const page2 = () => (
    <CacheProvider value={emotion.cache}>
      <Global styles={{ body: { color: 'white' } }} />
      <Main />
    </CacheProvider>
  );
  return { page1, page2 };
}
