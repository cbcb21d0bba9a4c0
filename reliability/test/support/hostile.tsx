/** @jsxImportSource @emotion/react */
/**
 * The hostile-data app of `hostile.test.tsx`, shared by the server render and the browser: every
 * string the GraphQL server returns is an injection attempt, and the app puts it in every place
 * Kiln writes HTML (title, meta, text, attributes, emotion CSS, state, the Apollo cache and
 * streamed results, a late redirect).
 */
import { ApolloClient, gql, HttpLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { useSuspenseQuery } from '@apollo/client/react';
import { css } from '@emotion/react';
import styled from '@emotion/styled';
import { apolloClient } from '@kiln/apollo/client';
import { hydrate, readState, useRenderContext } from '@kiln/core/client';
import { emotionClient } from '@kiln/emotion/client';
import { type ReactNode, Suspense, useEffect } from 'react';

/** Strings that try to end the element they are written into, or to open markup or script. */
export const CORPUS: readonly string[] = [
  '</script><script>alert(1)</script>',
  '</SCRIPT ><script>alert(2)</script>',
  '<!--<script>alert(3)</script>',
  '</style><script>alert(4)</script>',
  ']]><script>alert(5)</script>',
  '<svg/onload=alert(6)>',
  'line\u2028separator\u2029paragraph',
  'lone \ud800 high and \udc00 low surrogates',
  '"\'><img src=x onerror=alert(7)>',
  '</title><script>alert(8)</script>',
  '</noscript><script>alert(9)</script>',
  '</textarea></template><script>alert(10)</script>',
];

/** Every corpus string in one, for the places that take a single string (title, meta). */
export const JOINED: string = CORPUS.join(' | ');

/**
 * JSON-ish data with keys a careless merge would follow (`__proto__`, `constructor`) and a
 * hostile key; `JSON.parse` keeps them as own data properties.
 */
export const PROTO_JSON =
  '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"</script><script>alert(12)</script>":"<!--"}';

/**
 * What UTF-8 can carry of a string: lone surrogates become U+FFFD. Text and attributes in HTML
 * are UTF-8, so this is what a parser reads back from them; state keeps lone surrogates escaped.
 */
export function wellFormed(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
}

/**
 * A CSS string literal holding `text`, as an app must write user data into CSS: quotes,
 * backslashes and line breaks escaped. It does not escape `</style>`: keeping that inside the
 * style element is Kiln's job.
 */
export function cssString(text: string): string {
  return `"${text.replace(/[\\"\n\r\f]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;
}

interface Text {
  id: string;
  text: string;
}

interface HostilePage {
  page: { id: string; title: string; description: string; texts: Text[] };
}

interface HostileLate {
  late: { id: string; texts: Text[] };
}

interface HostileJson {
  probe: { id: string; json: Record<string, unknown> };
}

export const PAGE_QUERY: TypedDocumentNode<HostilePage> = gql`
  query HostilePage {
    page {
      id
      title
      description
      texts {
        id
        text
      }
    }
  }
`;

export const LATE_QUERY: TypedDocumentNode<HostileLate, { ms: number }> = gql`
  query HostileLate($ms: Int!) {
    late(ms: $ms) {
      id
      texts {
        id
        text
      }
    }
  }
`;

/** A JSON scalar whose object has `__proto__` and `constructor` keys ({@link PROTO_JSON}). */
export const JSON_QUERY: TypedDocumentNode<HostileJson> = gql`
  query HostileJson {
    probe {
      id
      json
    }
  }
`;

/** The state key of the app's own state, and a key that `setState` must refuse. */
export const STATE_KEY = 'hostile';
export const HOSTILE_STATE_KEY = '"></script><script>alert(11)</script>';

/** The value the app embeds with `ctx.setState`: hostile values, keys, a `Map` and `__proto__`. */
export function stateValue(texts: readonly string[]): unknown {
  return {
    values: [...texts],
    byKey: Object.fromEntries(texts.map((text, i) => [text, i])),
    map: new Map(texts.map((text) => [text, text])),
    json: JSON.parse(PROTO_JSON),
  };
}

const Note = styled.span<{ note: string }>(({ note }) => ({
  '&::after': { content: cssString(note) },
}));

/** One hostile string in text, in attributes and in CSS built from it. */
function Item({ text, id }: { text: Text; id: string }): ReactNode {
  const shown = wellFormed(text.text);
  return (
    <li id={id} title={shown} data-text={shown} data-id={wellFormed(text.id)}>
      <a href={`/search?q=${encodeURIComponent(shown)}`}>{shown}</a>
      <Note className="note" note={shown} />
      <span className="before" css={css({ '&::before': { content: cssString(shown) } })} />
    </li>
  );
}

function Late({ redirectTo }: { redirectTo: string | undefined }): ReactNode {
  const { data } = useSuspenseQuery(LATE_QUERY, { variables: { ms: 300 } });
  const ctx = useRenderContext();
  // After the first byte: Kiln writes a client-side redirect into the page.
  if (redirectTo !== undefined) ctx?.redirect(redirectTo);
  return (
    <section id="late">
      <ul>
        {data.late.texts.map((text, i) => (
          <Item key={text.id} text={text} id={`late-${i}`} />
        ))}
      </ul>
    </section>
  );
}

/** Marks the document once React hydrated it (effects run only in the browser). */
function Hydrated(): ReactNode {
  useEffect(() => {
    document.documentElement.setAttribute('data-hydrated', '');
  }, []);
  return null;
}

/** Shows what the app reads of the JSON scalar: its own keys, and whether it inherits data. */
function JsonProbe(): ReactNode {
  const { data } = useSuspenseQuery(JSON_QUERY);
  const json = data.probe.json;
  return (
    <output id="json">
      {JSON.stringify({ own: Object.keys(json), inherited: 'polluted' in json })}
    </output>
  );
}

/** Throws in the shell with a hostile message: the error document must escape it. */
function Crash(): ReactNode {
  throw new Error(JOINED);
}

interface PageProps {
  /** Where the late boundary redirects to (after the first byte), if anywhere. */
  redirectTo?: string | undefined;
  /** Receives what `setState` threw for {@link HOSTILE_STATE_KEY} (server only). */
  onRefusedKey?: ((error: unknown) => void) | undefined;
}

function Shell({ redirectTo, onRefusedKey }: PageProps): ReactNode {
  const { data } = useSuspenseQuery(PAGE_QUERY);
  const ctx = useRenderContext();
  const texts = data.page.texts.map((t) => t.text);
  if (ctx) {
    ctx.setState(STATE_KEY, stateValue(texts));
    try {
      ctx.setState(HOSTILE_STATE_KEY, texts);
    } catch (error) {
      onRefusedKey?.(error);
    }
  }
  const state = ctx ? undefined : readState<{ byKey: object }>(STATE_KEY);
  return (
    <main>
      <title>{wellFormed(data.page.title)}</title>
      <meta name="description" content={wellFormed(data.page.description)} />
      <h1 id="heading">{wellFormed(data.page.title)}</h1>
      <ul id="shell">
        {data.page.texts.map((text, i) => (
          <Item key={text.id} text={text} id={`shell-${i}`} />
        ))}
      </ul>
      <output id="state-keys">{ctx ? texts.length : Object.keys(state?.byKey ?? {}).length}</output>
      <Suspense fallback={<p id="late-fallback">loading</p>}>
        <Late redirectTo={redirectTo} />
      </Suspense>
    </main>
  );
}

/** The pages: `/` (data everywhere), `/redirect` (a late redirect to a hostile target), `/crash`. */
export function HostileApp({ path, ...props }: PageProps & { path: string }): ReactNode {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
      </head>
      <body>
        {path === '/crash' ? <Crash /> : path === '/json' ? <JsonProbe /> : <Shell {...props} />}
        <Hydrated />
      </body>
    </html>
  );
}

/** What the browser reports back to the test. */
export interface BrowserReport {
  /** Whether `readState` gave back exactly {@link stateValue} of the corpus. */
  stateEqual: boolean;
  /** Whether the state's `__proto__` key arrived as own data, the prototype unchanged. */
  protoKept: boolean;
}

declare global {
  interface Window {
    __hostileReport?: BrowserReport;
  }
}

/** Deep equality that tells own `__proto__` keys, prototypes, `Map`s and lone surrogates apart. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Map && b instanceof Map) {
    return a.size === b.size && [...a].every(([k, v]) => b.has(k) && sameValue(v, b.get(k)));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every(
        (k) =>
          Object.hasOwn(b, k) &&
          sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return Object.is(a, b);
}

/** The browser entry: hydrates the page with Apollo and emotion, and reports what it read. */
export async function startHostileClient(): Promise<void> {
  await hydrate(<HostileApp path={location.pathname} />, {
    plugins: [
      apolloClient({
        makeClient: () =>
          new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: '/graphql' }) }),
      }),
      emotionClient(),
    ],
    onRecoverableError: (error) => console.error('recoverable error', String(error)),
  });
  const state = readState<{ json: object }>(STATE_KEY);
  window.__hostileReport = {
    stateEqual: sameValue(state, stateValue(CORPUS)),
    protoKept:
      state !== undefined &&
      Object.hasOwn(state.json, '__proto__') &&
      Object.getPrototypeOf(state.json) === Object.prototype,
  };
}
