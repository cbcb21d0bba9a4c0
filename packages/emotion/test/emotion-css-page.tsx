import type { Emotion } from '@emotion/css/create-instance';
import type { ReactNode } from 'react';
import { Document } from './app';
import { BigComponent, getComponents } from './upstream/server-util';

/** Calls `keyframes`, `injectGlobal` and `css` of the instance while it renders. */
function Spinner({ emotion }: { emotion: Emotion }): ReactNode {
  const spin = emotion.keyframes({ from: { rotate: '0deg' }, to: { rotate: '360deg' } });
  emotion.injectGlobal({ '.spinner-host': { display: 'grid' } });
  return <div className={emotion.css({ animation: `${spin} 2s linear infinite` })}>…</div>;
}

/**
 * A page styled by an `@emotion/css` instance: globals, keyframes and classes made when its
 * components are defined (emotion's server test fixture) and while they render.
 */
export function emotionCssPage(emotion: Emotion): () => ReactNode {
  const { page1 } = getComponents(emotion);
  return () => (
    <Document>
      {page1()}
      <BigComponent emotion={emotion} count={3} />
      <Spinner emotion={emotion} />
    </Document>
  );
}
