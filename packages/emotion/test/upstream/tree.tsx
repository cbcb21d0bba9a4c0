import { Fragment, type ReactNode, Suspense, use } from 'react';
import { Document } from '../app';

/** How a case is rendered: buffered, streamed, or streamed with each part behind a late boundary. */
export type RenderMode = 'buffer' | 'stream' | 'late';

function Late({
  gate,
  index,
  children,
}: {
  gate: Promise<void>;
  index: number;
  children: ReactNode;
}): ReactNode {
  use(gate);
  return (
    <>
      <template data-part={index} />
      {children}
    </>
  );
}

/** The document of a case: its parts in the body, each behind its own boundary in `late` mode. */
export function Tree({
  mode,
  parts,
  gates,
}: {
  mode: RenderMode;
  parts: ReactNode[];
  gates: Promise<void>[];
}): ReactNode {
  return (
    <Document>
      {parts.map((part, index) =>
        mode === 'late' ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts are fixed
          <Suspense key={index} fallback={<i data-fallback={index} />}>
            <Late gate={gates[index]!} index={index}>
              {part}
            </Late>
          </Suspense>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts are fixed
          <Fragment key={index}>
            <template data-part={index} />
            {part}
          </Fragment>
        ),
      )}
    </Document>
  );
}
