/** @jsxImportSource @emotion/react */
import { useSuspenseQuery } from '@apollo/client/react';
import { css, keyframes } from '@emotion/react';
import styled from '@emotion/styled';
import { type ReactNode, Suspense } from 'react';
import { PICKS_QUERY } from '../queries';
import { ErrorBoundary } from './ErrorBoundary';

const fadeIn = keyframes`
  from { opacity: 0; transform: translateY(4px); }
  to { opacity: 1; transform: none; }
`;

const Panel = styled.aside`
  margin-top: 32px;
  padding: 20px 24px;
  min-height: 150px;
  border-radius: 14px;
  background: linear-gradient(135deg, #fff7e6, #fdebd3);
  border: 1px solid #f3d3a4;
  h2 {
    margin: 0 0 12px;
    font-size: 18px;
  }
`;

const Pick = styled.li<{ hue: number }>`
  display: inline-block;
  margin: 0 12px 8px 0;
  padding: 8px 14px;
  border-radius: 10px;
  background: #fff;
  border-left: 6px solid hsl(${(p) => p.hue} 65% 50%);
  animation: ${fadeIn} 0.4s ease-out both;
`;

function PickList(): ReactNode {
  const { data } = useSuspenseQuery(PICKS_QUERY);
  return (
    <ul css={{ margin: 0, padding: 0, listStyle: 'none' }} data-testid="picks">
      {data.picks.map((pick) => (
        <Pick key={pick.id} hue={pick.product.hue}>
          <a href={`/products/${pick.product.id}`}>{pick.product.name}</a>
          <small css={{ display: 'block', color: '#78716c' }}>{pick.reason}</small>
        </Pick>
      ))}
    </ul>
  );
}

const muted = css`
  margin: 0;
  color: #78716c;
`;

/** Staff picks: a slow query behind Suspense. The shell goes out first; this part streams in. */
export function Picks(): ReactNode {
  return (
    <Panel>
      <h2>Staff picks</h2>
      <ErrorBoundary fallback={<p css={muted}>Staff picks are unavailable right now.</p>}>
        <Suspense
          fallback={
            <p css={muted} data-testid="picks-loading">
              Asking the staff…
            </p>
          }
        >
          <PickList />
        </Suspense>
      </ErrorBoundary>
    </Panel>
  );
}
