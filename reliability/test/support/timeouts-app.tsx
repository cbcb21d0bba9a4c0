/** @jsxImportSource @emotion/react */
/**
 * The page of `timeouts.test.tsx`, rendered by the server and hydrated in Chromium: a shell
 * with data (the greeting) and one Suspense boundary whose data (`late`) the server never
 * receives, so the render times out and the browser renders that boundary itself.
 */
import { gql, type TypedDocumentNode } from '@apollo/client';
import { useSuspenseQuery } from '@apollo/client/react';
import { type ReactNode, Suspense, useEffect } from 'react';

/** The shell's data: answered at once. */
export const GREETING_QUERY: TypedDocumentNode<{ greeting: string }> = gql`
  query Greeting {
    greeting
  }
`;

/** The late boundary's data: never answered to the server, answered to the browser. */
export const LATE_QUERY: TypedDocumentNode<{ late: string }> = gql`
  query Late {
    late
  }
`;

/** What the GraphQL server answers to `greeting`. */
export const GREETING = 'Hello from the server';
/** What the GraphQL server answers to `late` when the browser asks. */
export const LATE_FROM_BROWSER = 'Late part, fetched by the browser';

function Greeting(): ReactNode {
  const { data } = useSuspenseQuery(GREETING_QUERY);
  return (
    <h1 data-testid="greeting" css={{ color: 'rgb(30, 64, 175)', margin: 0 }}>
      {data.greeting}
    </h1>
  );
}

function Late(): ReactNode {
  const { data } = useSuspenseQuery(LATE_QUERY);
  return (
    <p data-testid="late" css={{ color: 'rgb(21, 128, 61)', fontWeight: 700 }}>
      {data.late}
    </p>
  );
}

/** The whole document. `onHydrated` runs in the browser once React committed the hydration. */
export function TimeoutPage(props: { onHydrated?: () => void }): ReactNode {
  const { onHydrated } = props;
  useEffect(() => {
    onHydrated?.();
  }, [onHydrated]);
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <title>Timeouts</title>
      </head>
      <body>
        <Greeting />
        <Suspense
          fallback={
            <p data-testid="late-fallback" css={{ color: 'rgb(120, 113, 108)' }}>
              Waiting for the late part…
            </p>
          }
        >
          <Late />
        </Suspense>
      </body>
    </html>
  );
}
