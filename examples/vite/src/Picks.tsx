import { useSuspenseQuery } from '@apollo/client/react';
import styled from '@emotion/styled';
import { Component, type ReactNode, Suspense } from 'react';
import { PICKS_QUERY } from './queries';

const Panel = styled.aside`
  margin-top: 28px;
  padding: 16px 20px;
  min-height: 96px;
  border-radius: 12px;
  background: #fff7e6;
  border: 1px solid #f3d3a4;
`;

const Heading = styled.h2`
  margin: 0 0 10px;
  font-size: 18px;
`;

const Muted = styled.p`
  margin: 0;
  color: #78716c;
`;

const Pick = styled.li<{ hue: number }>`
  display: inline-block;
  margin: 0 10px 8px 0;
  padding: 6px 12px;
  background: #fff;
  border-left: 5px solid hsl(${(p) => p.hue} 65% 50%);
  list-style: none;
`;

const PickList = styled.ul`
  margin: 0;
  padding: 0;
`;

function StaffPicks(): ReactNode {
  const { data } = useSuspenseQuery(PICKS_QUERY);
  return (
    <PickList data-testid="picks">
      {data.picks.map((pick) => (
        <Pick key={pick.id} hue={pick.product.hue}>
          {pick.product.name} <small>· {pick.reason}</small>
        </Pick>
      ))}
    </PickList>
  );
}

/** Shows `fallback` instead of children that failed to render (in the browser). */
class ErrorBoundary extends Component<
  { fallback: ReactNode; children: ReactNode },
  { failed: boolean }
> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override render(): ReactNode {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}

/**
 * Staff picks: a slow query behind `<Suspense>`. A browser gets the shell first and this part
 * streamed in later, in the same response; a crawler gets the page complete.
 */
export function Picks(): ReactNode {
  return (
    <Panel>
      <Heading>Staff picks</Heading>
      <ErrorBoundary fallback={<Muted>Staff picks are unavailable right now.</Muted>}>
        <Suspense fallback={<Muted data-testid="picks-loading">Asking the staff…</Muted>}>
          <StaffPicks />
        </Suspense>
      </ErrorBoundary>
    </Panel>
  );
}
