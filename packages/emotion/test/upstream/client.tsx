import { hydrate } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { cases } from './cases';
import { type RenderMode, Tree } from './tree';

// The browser half of a ported case: fresh styles (an @emotion/css instance is created here,
// before hydration, as an app module would) and the same tree as the server's.
const url = new URL(window.location.href);
const upstreamCase = cases.find((c) => c.name === url.searchParams.get('case'));
if (upstreamCase === undefined) throw new Error(`unknown case ${url.search}`);
const built = upstreamCase.build();
hydrate(
  <Tree
    mode={url.searchParams.get('mode') as RenderMode}
    parts={built.parts}
    gates={built.parts.map(() => Promise.resolve())}
  />,
  { plugins: [emotionClient({ key: upstreamCase.key })] },
);
