import createEmotion from '@emotion/css/create-instance';
import { hydrate } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { emotionCssPage } from '../emotion-css-page';

// The instance is created before hydration, as an app's module would: its cache adopts the
// server's elements, then the page calls injectGlobal, keyframes and css again. The
// nonce lets anything it would insert pass the page's CSP, so a re-insert would show.
const nonce =
  (document.querySelector('style[data-emotion][nonce]') as HTMLStyleElement | null)?.nonce ||
  undefined;
const Page = emotionCssPage(createEmotion({ key: 'css', nonce }));
hydrate(<Page />, { plugins: [emotionClient()] });
