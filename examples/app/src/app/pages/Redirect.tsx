import type { ReactNode } from 'react';
import { visitorCookie } from '../../graphql/visitor';
import { usePageResponse } from '../response';

/**
 * A route that only redirects: a moved page (301), or signing in or out, which also sets the
 * visitor cookie (303, so the browser follows with a GET of the front page).
 */
export function Redirect(props: {
  to: string;
  status: number;
  visitor?: string | null;
}): ReactNode {
  const response = usePageResponse();
  if (props.visitor !== undefined) {
    response.setHeader('set-cookie', visitorCookie(props.visitor ?? undefined));
  }
  response.redirect(props.to, props.status);
  return null;
}
