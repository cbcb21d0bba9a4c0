import type { ApolloClient } from '@apollo/client';
import { getApolloContext } from '@apollo/client/react';
import { type HookWrappers, wrapperSymbol } from '@apollo/client/react/internal';
import { createElement, type ReactNode, useContext, useMemo } from 'react';

type AnyWrapper = (hook: unknown) => unknown;

/**
 * Puts `wrappers` around Apollo's hooks for everything below, keeping any wrappers an outer
 * provider installed (Apollo's `prerenderStatic` installs one for `useQuery`) on the outside,
 * so they still decide while they are present.
 */
function compose(outer: HookWrappers | undefined, inner: HookWrappers): HookWrappers {
  if (!outer) return inner;
  const merged: Record<string, AnyWrapper> = { ...(inner as Record<string, AnyWrapper>) };
  for (const [name, wrapOuter] of Object.entries(outer as Record<string, AnyWrapper>)) {
    const wrapInner = merged[name];
    merged[name] = wrapInner ? (hook) => wrapOuter(wrapInner(hook)) : wrapOuter;
  }
  return merged as HookWrappers;
}

/** Props of {@link KilnApolloProvider}. */
export interface KilnApolloProviderProps {
  client: ApolloClient;
  wrappers: HookWrappers;
  /** Called on every render of the provider (the server counts whole-tree passes with it). */
  onRender?: () => void;
  children?: ReactNode;
}

/** Apollo's context with this request's client and Kiln's hook wrappers. */
export function KilnApolloProvider(props: KilnApolloProviderProps): ReactNode {
  const { client, wrappers, onRender, children } = props;
  onRender?.();
  const Context = getApolloContext();
  const parent = useContext(Context);
  const value = useMemo(
    () => ({ ...parent, client, [wrapperSymbol]: compose(parent[wrapperSymbol], wrappers) }),
    [parent, client, wrappers],
  );
  return createElement(Context.Provider, { value }, children);
}
