import { hydrate } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { App, lateProducts, visitorFor } from '../app';

const visitor = visitorFor(new URL(window.location.href));
hydrate(<App visitor={visitor} late={Promise.resolve(lateProducts)} />, {
  plugins: [emotionClient()],
});
