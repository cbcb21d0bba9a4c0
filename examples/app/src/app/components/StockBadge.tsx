/** @jsxImportSource @emotion/react */
import { css, keyframes } from '@emotion/react';
import type { ReactNode } from 'react';

const pulse = keyframes`
  0%, 100% { box-shadow: 0 0 0 0 rgba(200, 30, 30, 0.45); }
  50% { box-shadow: 0 0 0 6px rgba(200, 30, 30, 0); }
`;

const base = css`
  display: inline-block;
  min-width: 9.5em;
  padding: 2px 10px;
  border-radius: 999px;
  font-size: 13px;
  line-height: 20px;
  font-weight: 600;
  text-align: center;
`;

/** The stock level; its colour follows the level and a nearly sold-out product pulses. */
export function StockBadge(props: { stock: number }): ReactNode {
  const { stock } = props;
  const tone =
    stock === 0
      ? css`background: #e4e4e7; color: #52525b;`
      : stock < 5
        ? css`background: #fde2e2; color: #a11; animation: ${pulse} 1.6s ease-in-out infinite;`
        : css`background: #dcf5e3; color: #166534;`;
  const label = stock === 0 ? 'Sold out' : stock < 5 ? `Only ${stock} left` : `${stock} in stock`;
  return (
    <span css={[base, tone]} data-live="stock" data-testid="stock">
      {label}
    </span>
  );
}
