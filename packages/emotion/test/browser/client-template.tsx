import { hydrate } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { lateProducts, TemplateApp, visitorFor } from '../app';

const visitor = visitorFor(new URL(window.location.href));
hydrate(<TemplateApp visitor={visitor} late={Promise.resolve(lateProducts)} />, {
  plugins: [emotionClient({ key: 'shop' })],
});
