/** @jsxImportSource @emotion/react */
import type { ReactNode } from 'react';
import { usePageResponse } from '../response';
import { PlainLayout } from './Layout';

/** Shown when the GraphQL API cannot be reached; the response becomes a 503. */
export function Unavailable(): ReactNode {
  usePageResponse().setStatus(503);
  return (
    <PlainLayout>
      <title>Shop unavailable · Kiln shop</title>
      <section
        role="alert"
        data-testid="unavailable"
        css={{ padding: 24, borderRadius: 14, background: '#fee2e2', color: '#7f1d1d' }}
      >
        <h1 css={{ marginTop: 0 }}>The shop is unavailable</h1>
        <p>We could not load the catalogue. Please try again shortly.</p>
        <a href="/">Try again</a>
      </section>
    </PlainLayout>
  );
}
