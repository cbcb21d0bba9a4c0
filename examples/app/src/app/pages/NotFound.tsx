/** @jsxImportSource @emotion/react */
import type { ReactNode } from 'react';
import { PlainLayout } from '../components/Layout';
import { usePageResponse } from '../response';

/** The 404 page: sets the status through the render context. */
export function NotFound(): ReactNode {
  usePageResponse().setStatus(404);
  return (
    <PlainLayout>
      <title>Not found · Kiln shop</title>
      <meta name="robots" content="noindex" />
      <h1 data-testid="not-found">Nothing here</h1>
      <p css={{ color: '#52525b' }}>
        This page does not exist. <a href="/">Back to the shop</a>
      </p>
    </PlainLayout>
  );
}
