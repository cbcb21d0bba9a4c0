/** @jsxImportSource @emotion/react */
import { css } from '@emotion/react';
import type { ReactNode } from 'react';
import { formatPrice } from '../format';

/** A price for this visitor; members see the list price struck through beside theirs. */
export function Price(props: { price: number; listPrice: number }): ReactNode {
  const discounted = props.price < props.listPrice;
  return (
    <span data-testid="price">
      <strong
        css={css`
          font-size: 18px;
          color: ${discounted ? '#047857' : 'inherit'};
        `}
      >
        {formatPrice(props.price)}
      </strong>
      {discounted && (
        <s
          css={css`
            margin-left: 8px;
            color: #71717a;
          `}
        >
          {formatPrice(props.listPrice)}
        </s>
      )}
    </span>
  );
}
