import styled from '@emotion/styled';
import type { ReactNode } from 'react';

const Lead = styled.p`
  margin: 0 0 20px;
  font-size: 18px;
  color: #3f3f46;
`;

/** The greeting above the catalogue. Edit its text while `pnpm dev` runs: the page updates in place. */
export function Welcome(): ReactNode {
  return <Lead data-testid="welcome">Fresh from the kiln: pots, kettles and mugs.</Lead>;
}
