import { createContext, type ReactNode, use } from 'react';

/**
 * What the pages may do to the HTTP response. On the server it is the request's Kiln render
 * context; in the browser, where the response was sent long ago, every call is ignored.
 */
export interface PageResponse {
  setStatus(code: number): void;
  redirect(url: string, code?: number): void;
  setHeader(name: string, value: string): void;
}

const ignore: PageResponse = {
  setStatus() {},
  redirect() {},
  setHeader() {},
};

const PageResponseContext = createContext<PageResponse>(ignore);

/** Gives the pages a response to shape (the server passes Kiln's render context). */
export function PageResponseProvider(props: {
  value: PageResponse;
  children: ReactNode;
}): ReactNode {
  return <PageResponseContext value={props.value}>{props.children}</PageResponseContext>;
}

/** The response of the page being rendered. */
export function usePageResponse(): PageResponse {
  return use(PageResponseContext);
}
