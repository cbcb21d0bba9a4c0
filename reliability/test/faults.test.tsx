/**
 * Faults never take the server down and never leak. A small Kiln shop (`@kiln/apollo`,
 * `@kiln/emotion`) served by node:http renders against a GraphQL backend that is healthy, down,
 * slow, answers 500, answers malformed JSON, or answers GraphQL errors with partial data, for
 * the shell's query and for a query inside a Suspense boundary, with `useSuspenseQuery` and
 * `useQuery`, streamed and buffered; components throw in the shell and in a boundary; a plugin
 * throws in `setup`, `head`, `flush` or `end`. For every case: the visitor gets the documented
 * status and page (a 500 error document for shell failures; a 200 page whose boundary shows the
 * error state or is left for the client to retry for boundary failures), `onError` is called
 * exactly once per error with the right phase, and the server still answers a healthy request
 * with no unhandled rejection or uncaught exception. The same cases run in a child process
 * with `NODE_ENV=production`, whose pages must contain no stack trace, no file path and no
 * message of the errors. Outside production, error messages holding markup are shown escaped.
 */
import { randomUUID } from 'node:crypto';
import { parse } from '@kiln/serialize';
import { attr, type Element, findAll, parseDocument, textOf } from '@kiln/test-utils';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  BACKEND_SECRETS,
  type ChildApp,
  type Fault,
  type FaultyBackend,
  startChildApp,
  startFaultyBackend,
} from './support/faults';
import {
  APP_SECRETS,
  type CaseLog,
  type ErrorRecord,
  type FaultApp,
  type PluginHook,
  startFaultApp,
} from './support/faults-child';

const MODES = ['stream', 'buffer'] as const;
const HOOKS = ['suspense', 'query'] as const;
type Mode = (typeof MODES)[number];
type Hook = (typeof HOOKS)[number];

/** The render timeout of the `slow` cases: generous for the healthy queries, far below the backend's delay. */
const SLOW_TIMEOUT_MS = 1_500;

const MARKUP = '</script><script>alert(1)</script>';

interface Target {
  readonly name: string;
  readonly production: boolean;
  readonly url: string;
  /** Unhandled rejections and uncaught exceptions seen by the process serving the target. */
  processFaults(): Promise<{ unhandledRejections: unknown[]; uncaughtExceptions: unknown[] }>;
  alive(): boolean;
}

let backend: FaultyBackend;
let devApp: FaultApp;
let child: ChildApp;
const onRejection = vi.fn();
const onException = vi.fn();

const dev: Target = {
  name: 'development, in process',
  production: false,
  get url() {
    return devApp.url;
  },
  processFaults: async () => ({
    unhandledRejections: onRejection.mock.calls,
    uncaughtExceptions: onException.mock.calls,
  }),
  alive: () => true,
};

const prod: Target = {
  name: 'production, child process',
  production: true,
  get url() {
    return child.url;
  },
  processFaults: async () =>
    (await (await fetch(`${child.url}/__process`)).json()) as {
      unhandledRejections: string[];
      uncaughtExceptions: string[];
    },
  alive: () => child.alive(),
};

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  backend = await startFaultyBackend();
  [devApp, child] = await Promise.all([
    startFaultApp({ backendBase: backend.base, downUrl: backend.downUrl }),
    startChildApp(backend),
  ]);
});

afterAll(async () => {
  await child?.stop();
  await devApp?.close();
  await backend?.close();
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
});

// ---- visiting pages ----

interface Visit {
  status: number;
  contentType: string | null;
  html: string;
  doc: Element;
  log: CaseLog;
}

async function visit(target: Target, params: string): Promise<Visit> {
  const id = randomUUID();
  const response = await fetch(`${target.url}/page?case=${id}&${params}`);
  const html = await response.text();
  const log = (await (await fetch(`${target.url}/__log?case=${id}`)).json()) as CaseLog;
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    html,
    doc: parseDocument(html),
    log,
  };
}

/** Every element of the document, with whether a `hidden` ancestor keeps it out of sight (React's streamed segments wait in `<div hidden>`). */
function elementsOf(doc: Element): { el: Element; hidden: boolean }[] {
  const found: { el: Element; hidden: boolean }[] = [];
  const walk = (n: Element, hidden: boolean): void => {
    const inside = hidden || attr(n, 'hidden') !== undefined;
    if (n.tagName) found.push({ el: n, hidden: inside });
    for (const c of n.childNodes ?? []) walk(c, inside);
    if (n.content) walk(n.content, true);
  };
  walk(doc, false);
  return found;
}

function byId(doc: Element, id: string): Element | undefined {
  return elementsOf(doc).find(({ el }) => attr(el, 'id') === id)?.el;
}

/** The element with `id` outside hidden segments and templates, or undefined. */
function visibleById(doc: Element, id: string): Element | undefined {
  return elementsOf(doc).find(({ el, hidden }) => !hidden && attr(el, 'id') === id)?.el;
}

function textById(doc: Element, id: string): string | undefined {
  const el = byId(doc, id);
  return el ? textOf(el) : undefined;
}

// ---- what the visitor must get ----

type ShellView = 'data' | 'error-state' | 'partial' | 'loading';
type BoundaryView = 'data' | 'error-state' | 'partial' | 'client-retry';

type Expected =
  | { kind: 'error-document'; errors: ExpectedError[] }
  | {
      kind: 'page';
      shell: ShellView;
      boundary: BoundaryView;
      errors: ExpectedError[] | 'one per flush';
    };

interface ExpectedError {
  phase: ErrorRecord['phase'];
  plugin?: string;
  name: string;
  code?: string;
  message?: string;
  cause?: string;
}

/** The error Apollo gives for each backend fault (`graphql` is `partial` with errorPolicy `none`). */
const APOLLO_ERROR: Record<Exclude<BackendCase, 'slow'>, string> = {
  down: 'TypeError',
  status500: 'ServerError',
  malformed: 'ServerParseError',
  graphql: 'CombinedGraphQLErrors',
  partial: 'CombinedGraphQLErrors',
};

const TIMEOUT: ExpectedError = { phase: 'timeout', name: 'KilnError', code: 'KILN_TIMEOUT' };

type BackendCase = 'down' | 'slow' | 'status500' | 'malformed' | 'graphql' | 'partial';

function backendParams(fault: BackendCase): { fault: Fault; extra: string } {
  switch (fault) {
    case 'graphql':
      return { fault: 'partial', extra: '&policy=none' };
    case 'partial':
      return { fault: 'partial', extra: '&policy=all' };
    case 'slow':
      return { fault: 'slow', extra: `&timeout=${SLOW_TIMEOUT_MS}` };
    default:
      return { fault, extra: '' };
  }
}

/** What Kiln documents for a backend fault behind the shell's or the boundary's query. */
function expectBackendFault(where: 'shell' | 'boundary', fault: BackendCase, hook: Hook): Expected {
  if (fault === 'slow') {
    // core: a timeout before the shell is ready gives the 500 document, except that apollo
    // resolves a pending useQuery as its loading result, as Apollo's own SSR does (the shell
    // completes with the loading UI, the browser fetches it); afterwards pending boundaries
    // fall back to client rendering
    if (where === 'boundary') {
      return { kind: 'page', shell: 'data', boundary: 'client-retry', errors: [TIMEOUT] };
    }
    return hook === 'query'
      ? { kind: 'page', shell: 'loading', boundary: 'data', errors: [TIMEOUT] }
      : { kind: 'error-document', errors: [TIMEOUT] };
  }
  // apollo: a failed query is reported once (phase plugin, plugin apollo); useQuery renders
  // its error state; useSuspenseQuery with errorPolicy 'none' throws (the shell fails with a
  // 500, a boundary is left for the browser); errorPolicy 'all' renders the partial data with
  // its error, with either hook.
  const errors: ExpectedError[] = [
    { phase: 'plugin', plugin: 'apollo', name: APOLLO_ERROR[fault] },
  ];
  const view: ShellView = fault === 'partial' ? 'partial' : 'error-state';
  if (fault !== 'partial' && hook === 'suspense') {
    return where === 'shell'
      ? { kind: 'error-document', errors }
      : { kind: 'page', shell: 'data', boundary: 'client-retry', errors };
  }
  return where === 'shell'
    ? { kind: 'page', shell: view, boundary: 'data', errors }
    : { kind: 'page', shell: 'data', boundary: view, errors };
}

function checkErrors(log: CaseLog, expected: Expected): void {
  expect(log.handlerFailure).toBeUndefined();
  if (expected.kind === 'page' && expected.errors === 'one per flush') {
    expect(log.flushThrows).toBeGreaterThanOrEqual(1);
    expect(log.errors).toHaveLength(log.flushThrows);
    for (const error of log.errors) {
      expect(error).toMatchObject({
        phase: 'plugin',
        plugin: 'faulty',
        code: 'KILN_PLUGIN_ERROR',
        cause: `${APP_SECRETS.plugin} in flush`,
      });
    }
    return;
  }
  const errors = expected.errors as ExpectedError[];
  expect(log.errors).toHaveLength(errors.length);
  errors.forEach((error, i) => {
    expect(log.errors[i]).toMatchObject(error);
  });
}

function checkPage(v: Visit, expected: Expected, production: boolean): void {
  expect(v.contentType).toBe('text/html; charset=utf-8');
  if (expected.kind === 'error-document') {
    expect(v.status).toBe(500);
    expect(textOf(findAll(v.doc, 'title')[0] as Element)).toBe('500 Server error');
    expect(byId(v.doc, 'title')).toBeUndefined();
    expect(findAll(v.doc, 'script')).toHaveLength(0);
    const text = textOf(findAll(v.doc, 'body')[0] as Element);
    if (production) {
      expect(text).toContain('Something went wrong on our side. Please try again later.');
      expect(findAll(v.doc, 'pre')).toHaveLength(0);
    } else {
      expect(findAll(v.doc, 'pre')).toHaveLength(1);
    }
    return;
  }
  expect(v.status).toBe(200);
  expect(v.html.startsWith('<!DOCTYPE html>')).toBe(true);
  expect(v.html.endsWith('</body></html>')).toBe(true);
  expect(textById(v.doc, 'footer')).toBe('End of the page');
  // emotion's critical CSS reached the page and the title carries its class
  const title = byId(v.doc, 'title');
  const style = findAll(v.doc, 'style').find((s) => attr(s, 'data-emotion')?.startsWith('css '));
  expect(style && textOf(style)).toContain('color:rebeccapurple');
  expect(textOf(style as Element)).toContain(`.${attr(title as Element, 'class')}{`);

  // Kiln renders useQuery's loading state on the server only for a query a timeout cut off
  if (expected.shell !== 'loading') expect(byId(v.doc, 'shell-loading')).toBeUndefined();
  expect(byId(v.doc, 'product-loading')).toBeUndefined();

  switch (expected.shell) {
    case 'data':
      expect(textById(v.doc, 'greeting')).toBe('Hello from the backend');
      expect(textById(v.doc, 'motto')).toBe('Fired daily');
      expect(byId(v.doc, 'shell-error')).toBeUndefined();
      break;
    case 'error-state':
      expect(textById(v.doc, 'shell-error')).toMatch(/^The greeting is unavailable \(\w+\)$/);
      expect(textById(v.doc, 'greeting')).toBe('no greeting');
      break;
    case 'partial':
      expect(textById(v.doc, 'greeting')).toBe('Hello from the backend');
      expect(textById(v.doc, 'motto')).toBe('motto missing');
      break;
    case 'loading':
      expect(textById(v.doc, 'shell-loading')).toBe('Loading greeting');
      expect(textById(v.doc, 'greeting')).toBe('no greeting');
      expect(byId(v.doc, 'shell-error')).toBeUndefined();
      break;
  }
  switch (expected.boundary) {
    case 'data':
      expect(textById(v.doc, 'product-name')).toBe('Kiln-fired mug');
      expect(textById(v.doc, 'stock')).toBe('In stock');
      expect(byId(v.doc, 'product-error')).toBeUndefined();
      break;
    case 'error-state':
      expect(textById(v.doc, 'product-error')).toMatch(/^The product is unavailable \(\w+\)$/);
      expect(textById(v.doc, 'product-name')).toBe('no product');
      break;
    case 'partial':
      expect(textById(v.doc, 'product-name')).toBe('Kiln-fired mug');
      expect(textById(v.doc, 'stock')).toBe('stock missing');
      break;
    case 'client-retry': {
      // the fallback is in the page and the boundary is marked for client rendering: inline
      // when it failed before the shell was written, by React's $RX script afterwards (a
      // segment React had already streamed stays hidden and is never revealed)
      expect(textOf(visibleById(v.doc, 'fallback') as Element)).toBe('Loading the product');
      expect(visibleById(v.doc, 'product')).toBeUndefined();
      expect(v.html).not.toMatch(/\$RC\("B:0"/);
      const marked = v.html.includes('<!--$!-->');
      const retried = findAll(v.doc, 'script').some((s) => textOf(s).includes('$RX("B:0"'));
      expect(marked || retried).toBe(true);
      break;
    }
  }
}

/** The visitor sees the error state of a failed `useQuery` with the error's name. */
function checkErrorStateName(v: Visit, expected: Expected, name: string | undefined): void {
  if (expected.kind !== 'page' || name === undefined) return;
  if (expected.shell === 'error-state') expect(textById(v.doc, 'shell-error')).toContain(name);
  if (expected.boundary === 'error-state') expect(textById(v.doc, 'product-error')).toContain(name);
}

/** Production pages carry no stack trace, no file path and no message of a server-side error. */
function checkNoLeak(html: string): void {
  for (const secret of [...Object.values(APP_SECRETS), ...Object.values(BACKEND_SECRETS)]) {
    expect(html).not.toContain(secret);
  }
  expect(html).not.toContain('/work/');
  expect(html).not.toMatch(/\.tsx?:\d/);
  expect(html).not.toContain('node:internal');
  expect(html).not.toMatch(/\bat [\w.<>$]+ \(/);
  expect(html).not.toMatch(/\n\s+at /);
  expect(html).not.toContain('ECONNREFUSED');
  expect(html).not.toContain(new URL(backend.downUrl).host);
  expect(html).not.toContain('[kiln/');
}

/** The process serving `target` is up, never saw an unhandled rejection or uncaught exception, and renders a healthy page. */
async function checkStillHealthy(target: Target, mode: Mode, hook: Hook): Promise<void> {
  expect(target.alive()).toBe(true);
  const faults = await target.processFaults();
  expect(faults.unhandledRejections).toEqual([]);
  expect(faults.uncaughtExceptions).toEqual([]);
  const healthy = await visit(target, `mode=${mode}&hook=${hook}`);
  const expected: Expected = { kind: 'page', shell: 'data', boundary: 'data', errors: [] };
  checkPage(healthy, expected, target.production);
  checkErrors(healthy.log, expected);
}

async function runCase(
  target: Target,
  params: string,
  mode: Mode,
  hook: Hook,
  expected: Expected,
): Promise<Visit> {
  const v = await visit(target, `mode=${mode}&hook=${hook}&${params}`);
  checkPage(v, expected, target.production);
  checkErrors(v.log, expected);
  if (target.production) checkNoLeak(v.html);
  await checkStillHealthy(target, mode, hook);
  return v;
}

const combos = MODES.flatMap((mode) => HOOKS.map((hook) => ({ mode, hook })));
const BACKEND_CASES: BackendCase[] = [
  'down',
  'slow',
  'status500',
  'malformed',
  'graphql',
  'partial',
];

describe.each([dev, prod])('$name', (target) => {
  describe.each(['shell', 'boundary'] as const)('the %s query', (where) => {
    test.each(BACKEND_CASES)(
      'backend %s: documented status, page and onError; the server stays up',
      async (fault) => {
        const { fault: backendFault, extra } = backendParams(fault);
        const before = backend.log[backendFault];
        await Promise.all(
          combos.map(async ({ mode, hook }) => {
            const expected = expectBackendFault(where, fault, hook);
            const v = await runCase(
              target,
              `${where}=${backendFault}${extra}`,
              mode,
              hook,
              expected,
            );
            if (fault !== 'slow') checkErrorStateName(v, expected, APOLLO_ERROR[fault]);
            if (fault === 'partial') {
              // errorPolicy 'all': the partial data and the error state, side by side
              const id = where === 'shell' ? 'shell-error' : 'product-error';
              expect(textById(v.doc, id)).toBe(
                `The ${where === 'shell' ? 'greeting' : 'product'} is unavailable (CombinedGraphQLErrors)`,
              );
            }
          }),
        );
        // the fault was really served (a dead port answers nothing)
        if (backendFault !== 'down') {
          expect(backend.log[backendFault] - before).toBeGreaterThanOrEqual(combos.length);
        }
        if (fault === 'slow') {
          // the aborted render cancelled its request: the backend sees the connection close
          await vi.waitFor(() => expect(backend.slowOpen()).toBe(0), { timeout: 5_000 });
        }
      },
    );
  });

  test.each(MODES)(
    'a component throwing in the shell gives a 500 document, reported once (%s)',
    async (mode) => {
      const v = await runCase(target, 'throw=shell', mode, 'suspense', {
        kind: 'error-document',
        errors: [{ phase: 'shell', name: 'Error', message: APP_SECRETS.shell }],
      });
      if (!target.production)
        expect(textOf(findAll(v.doc, 'p')[0] as Element)).toBe(APP_SECRETS.shell);
    },
  );

  test.each(MODES)(
    'a component throwing inside a boundary leaves it for the client, reported once (%s)',
    async (mode) => {
      await runCase(target, 'throw=boundary', mode, 'suspense', {
        kind: 'page',
        shell: 'data',
        boundary: 'client-retry',
        errors: [{ phase: 'boundary', name: 'Error', message: APP_SECRETS.boundary }],
      });
    },
  );

  const hooks: PluginHook[] = ['setup', 'head', 'flush', 'end'];
  describe.each(hooks)('a plugin throwing in %s', (hook) => {
    test.each(MODES)('%s', async (mode) => {
      const error: ExpectedError = {
        phase: 'plugin',
        plugin: 'faulty',
        name: 'KilnError',
        code: 'KILN_PLUGIN_ERROR',
        cause: `${APP_SECRETS.plugin} in ${hook}`,
      };
      const expected: Expected =
        hook === 'setup'
          ? { kind: 'error-document', errors: [error] }
          : {
              kind: 'page',
              shell: 'data',
              boundary: 'data',
              errors: hook === 'flush' ? 'one per flush' : [error],
            };
      const v = await runCase(target, `plugin=${hook}`, mode, 'suspense', expected);
      // the failing hook added nothing; the plugin's other hooks still wrote theirs
      const metas = findAll(v.doc, 'meta')
        .filter((m) => attr(m, 'name') === 'faulty')
        .map((m) => attr(m, 'content'));
      if (hook === 'head') expect(metas).toEqual(['end']);
      if (hook === 'end') expect(metas).toEqual(['head']);
      if (hook === 'flush') expect(metas).toEqual(['head', 'end']);
    });
  });
});

// ---- markup in error messages (outside production, where messages are shown) ----

/** No `<script>` element of the page runs `alert(1)`: the markup stayed text or string data. */
function expectNoInjectedScript(doc: Element): void {
  const scripts = findAll(doc, 'script').map((s) => textOf(s).trim());
  expect(scripts).not.toContain('alert(1)');
  for (const text of scripts) expect(text.startsWith('alert(')).toBe(false);
}

describe('development: error messages with markup are shown escaped', () => {
  test.each(MODES)('a shell error document (%s)', async (mode) => {
    const v = await visit(dev, `mode=${mode}&throw=shell&message=${encodeURIComponent(MARKUP)}`);
    expect(v.status).toBe(500);
    expect(findAll(v.doc, 'script')).toHaveLength(0);
    expect(textOf(findAll(v.doc, 'p')[0] as Element)).toBe(MARKUP);
    expect(textOf(findAll(v.doc, 'pre')[0] as Element)).toContain(`Error: ${MARKUP}`);
    expect(v.log.errors).toHaveLength(1);
  });

  test.each(MODES)('a boundary error, as React sends it for the client (%s)', async (mode) => {
    const v = await visit(dev, `mode=${mode}&throw=boundary&message=${encodeURIComponent(MARKUP)}`);
    expect(v.status).toBe(200);
    expectNoInjectedScript(v.doc);
    expect(textById(v.doc, 'footer')).toBe('End of the page');
    // React shows the message to developers: in the boundary's template or its $RX call
    const inTemplate = findAll(v.doc, 'template').some((t) =>
      attr(t, 'data-msg')?.includes(MARKUP),
    );
    const inScript = findAll(v.doc, 'script').some((s) => textOf(s).includes('alert(1)'));
    expect(inTemplate || inScript).toBe(true);
    expect(v.log.errors).toHaveLength(1);
  });

  test.each(combos)(
    'a GraphQL error message sent to the browser by @kiln/apollo ($mode, $hook)',
    async ({ mode, hook }) => {
      const v = await visit(
        dev,
        `mode=${mode}&hook=${hook}&boundary=partial&policy=all&gqlMessage=${encodeURIComponent(MARKUP)}`,
      );
      expect(v.status).toBe(200);
      expectNoInjectedScript(v.doc);
      expect(textById(v.doc, 'footer')).toBe('End of the page');
      expect(v.log.errors.map((e) => e.message)).toEqual([MARKUP]);
      // the message did reach the page, as data: in the buffered state or a streamed chunk
      const carried = findAll(v.doc, 'script').map((s) => {
        const text = textOf(s);
        if (attr(s, 'data-kiln-state') === 'apollo') return JSON.stringify(parse(text));
        const chunk = /\.push\(("(?:[^"\\]|\\.)*")\)$/.exec(text);
        return chunk ? JSON.stringify(parse(JSON.parse(chunk[1] as string) as string)) : '';
      });
      expect(carried.some((data) => data.includes(JSON.stringify(MARKUP).slice(1, -1)))).toBe(true);
    },
  );
});
