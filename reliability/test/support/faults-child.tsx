/**
 * The small Kiln shop of the fault tests, served by a node:http server: a shell query and a
 * query inside a Suspense boundary against the fault-injecting backend, components and a
 * plugin that throw on request, `@kiln/apollo` and `@kiln/emotion` plugged in. The test imports
 * `startFaultApp` to run it in process; run as a child process (`KILN_FAULTS_BACKEND` set) it
 * starts itself, reports its port over IPC and stops when the IPC channel closes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApolloClient,
  type ErrorPolicy,
  gql,
  HttpLink,
  InMemoryCache,
  type TypedDocumentNode,
} from '@apollo/client';
import { useQuery, useSuspenseQuery } from '@apollo/client/react';
import styled from '@emotion/styled';
import { apollo } from '@kiln/apollo';
import { type KilnPlugin, type RenderErrorInfo, type RenderMode, renderToHtml } from '@kiln/core';
import { emotion } from '@kiln/emotion';
import { type ReactNode, Suspense, use } from 'react';
import type { Fault } from './faults';

/** A plugin hook the faulty plugin can throw in. */
export type PluginHook = 'setup' | 'head' | 'flush' | 'end';

/** What one page request asks for (from its query string). */
export interface CaseParams {
  id: string;
  mode: RenderMode;
  hook: 'suspense' | 'query';
  policy: ErrorPolicy;
  shell: Fault;
  boundary: Fault;
  throwIn: 'shell' | 'boundary' | undefined;
  message: string | undefined;
  plugin: PluginHook | undefined;
  graphqlMessage: string | undefined;
  timeoutMs: number;
}

/** One `onError` call, as the test reads it. */
export interface ErrorRecord {
  phase: RenderErrorInfo['phase'];
  plugin: string | undefined;
  name: string;
  code: string | undefined;
  message: string;
  cause: string | undefined;
}

/** What the server recorded for one page request. */
export interface CaseLog {
  errors: ErrorRecord[];
  /** How many times the faulty plugin's `flush()` threw. */
  flushThrows: number;
  /** A rejection of the request handler itself (never expected). */
  handlerFailure: string | undefined;
}

/** The secret messages of the errors thrown by the app; none may reach a production page. */
export const APP_SECRETS = {
  shell: 'component-secret-shell',
  boundary: 'component-secret-boundary',
  plugin: 'plugin-secret',
} as const;

interface ShellData {
  greeting: string;
  motto: string | null;
}
interface BoundaryData {
  product: { __typename: 'Product'; id: string; name: string; stock: string | null };
}

const SHELL_QUERY: TypedDocumentNode<ShellData, Record<string, never>> = gql`
  query Shell {
    greeting
    motto
  }
`;
const BOUNDARY_QUERY: TypedDocumentNode<BoundaryData, Record<string, never>> = gql`
  query Boundary {
    product {
      id
      name
      stock
    }
  }
`;

const Title = styled.h1({ color: 'rebeccapurple', fontFamily: 'serif' });
const Panel = styled.section({ border: '1px solid teal', padding: 8 });

interface DataProps {
  hook: CaseParams['hook'];
  policy: ErrorPolicy;
}

/** What a query component renders from: only the error's name is shown, never its message. */
interface Fetched<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
}

function ShellView({ data, error, loading }: Fetched<ShellData>): ReactNode {
  return (
    <div id="shell">
      {loading ? <p id="shell-loading">Loading greeting</p> : null}
      {error ? <p id="shell-error">The greeting is unavailable ({error.name})</p> : null}
      <p id="greeting">{data?.greeting ?? 'no greeting'}</p>
      <p id="motto">{data ? (data.motto ?? 'motto missing') : 'no data'}</p>
    </div>
  );
}

function ProductView({ data, error, loading }: Fetched<BoundaryData>): ReactNode {
  return (
    <div id="product">
      {loading ? <p id="product-loading">Loading product</p> : null}
      {error ? <p id="product-error">The product is unavailable ({error.name})</p> : null}
      <p id="product-name">{data?.product.name ?? 'no product'}</p>
      <p id="stock">{data ? (data.product.stock ?? 'stock missing') : 'no data'}</p>
    </div>
  );
}

function ShellWithSuspenseQuery({ policy }: DataProps): ReactNode {
  const { data, error } = useSuspenseQuery(SHELL_QUERY, { errorPolicy: policy });
  return <ShellView data={data as ShellData | undefined} error={error} loading={false} />;
}

function ShellWithQuery({ policy }: DataProps): ReactNode {
  const { data, error, loading } = useQuery(SHELL_QUERY, { errorPolicy: policy });
  return <ShellView data={data as ShellData | undefined} error={error} loading={loading} />;
}

function ProductWithSuspenseQuery({ policy }: DataProps): ReactNode {
  const { data, error } = useSuspenseQuery(BOUNDARY_QUERY, { errorPolicy: policy });
  return <ProductView data={data as BoundaryData | undefined} error={error} loading={false} />;
}

function ProductWithQuery({ policy }: DataProps): ReactNode {
  const { data, error, loading } = useQuery(BOUNDARY_QUERY, { errorPolicy: policy });
  return <ProductView data={data as BoundaryData | undefined} error={error} loading={loading} />;
}

function ShellPart(props: DataProps): ReactNode {
  return props.hook === 'suspense' ? (
    <ShellWithSuspenseQuery {...props} />
  ) : (
    <ShellWithQuery {...props} />
  );
}

function BoundaryPart(props: DataProps): ReactNode {
  return props.hook === 'suspense' ? (
    <ProductWithSuspenseQuery {...props} />
  ) : (
    <ProductWithQuery {...props} />
  );
}

function Thrower({ message, after }: { message: string; after?: Promise<void> }): ReactNode {
  if (after) use(after);
  throw new Error(message);
}

/** The page: a styled title, the shell's data, and a Suspense boundary with the product. */
export function FaultPage({ p, later }: { p: CaseParams; later: Promise<void> }): ReactNode {
  return (
    <html lang="en">
      <head>
        <title>Fault shop</title>
      </head>
      <body>
        <Title id="title">Fault shop</Title>
        {p.throwIn === 'shell' ? <Thrower message={p.message ?? APP_SECRETS.shell} /> : null}
        <ShellPart hook={p.hook} policy={p.policy} />
        <Suspense fallback={<p id="fallback">Loading the product</p>}>
          <Panel id="boundary">
            <BoundaryPart hook={p.hook} policy={p.policy} />
            {p.throwIn === 'boundary' ? (
              <Thrower message={p.message ?? APP_SECRETS.boundary} after={later} />
            ) : null}
          </Panel>
        </Suspense>
        <footer id="footer">End of the page</footer>
      </body>
    </html>
  );
}

/** A plugin that throws a fresh error in `hook` (every time the hook runs). */
function faultyPlugin(hook: PluginHook, log: CaseLog): KilnPlugin {
  const fail = (where: PluginHook): Error => new Error(`${APP_SECRETS.plugin} in ${where}`);
  return {
    name: 'faulty',
    setup() {
      if (hook === 'setup') throw fail('setup');
      return {
        head: () => {
          if (hook === 'head') throw fail('head');
          return '<meta name="faulty" content="head">';
        },
        flush: () => {
          if (hook === 'flush') {
            log.flushThrows++;
            throw fail('flush');
          }
          return '';
        },
        end: () => {
          if (hook === 'end') throw fail('end');
          return '<meta name="faulty" content="end">';
        },
      };
    },
  };
}

const FAULTS = new Set<string>(['healthy', 'down', 'slow', 'status500', 'malformed', 'partial']);

function faultOf(value: string | null): Fault {
  return value !== null && FAULTS.has(value) ? (value as Fault) : 'healthy';
}

/** Reads a page request's query string. */
export function readParams(url: URL): CaseParams {
  const q = url.searchParams;
  const pick = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const value = q.get(name);
    return value !== null && (allowed as readonly string[]).includes(value)
      ? (value as T)
      : undefined;
  };
  return {
    id: q.get('case') ?? 'anonymous',
    mode: pick('mode', ['stream', 'buffer'] as const) ?? 'stream',
    hook: pick('hook', ['suspense', 'query'] as const) ?? 'suspense',
    policy: pick('policy', ['none', 'all', 'ignore'] as const) ?? 'none',
    shell: faultOf(q.get('shell')),
    boundary: faultOf(q.get('boundary')),
    throwIn: pick('throw', ['shell', 'boundary'] as const),
    message: q.get('message') ?? undefined,
    plugin: pick('plugin', ['setup', 'head', 'flush', 'end'] as const),
    graphqlMessage: q.get('gqlMessage') ?? undefined,
    timeoutMs: Number(q.get('timeout') ?? 10_000),
  };
}

function record(error: unknown, info: RenderErrorInfo): ErrorRecord {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as Error & { code?: unknown }).code;
  return {
    phase: info.phase,
    plugin: info.plugin,
    name: e.name,
    code: typeof code === 'string' ? code : undefined,
    message: e.message,
    cause: e.cause instanceof Error ? e.cause.message : undefined,
  };
}

/** Where the app's GraphQL requests go: the backend base and the endpoint of a dead port. */
export interface FaultAppOptions {
  backendBase: string;
  downUrl: string;
}

/** The running app server. */
export interface FaultApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /page?…` (the page, see {@link readParams}) and `GET /__log?case=<id>` (the
 * {@link CaseLog} of a page request, once its render finished).
 */
export async function startFaultApp(options: FaultAppOptions): Promise<FaultApp> {
  const logs = new Map<string, { log: CaseLog; finished: Promise<void> }>();
  const endpoint = (fault: Fault): string =>
    fault === 'down' ? options.downUrl : `${options.backendBase}/${fault}`;

  async function page(req: IncomingMessage, res: ServerResponse, p: CaseParams): Promise<void> {
    const log: CaseLog = { errors: [], flushThrows: 0, handlerFailure: undefined };
    let done!: () => void;
    logs.set(p.id, { log, finished: new Promise<void>((resolve) => (done = resolve)) });
    try {
      const plugins: KilnPlugin[] = [
        apollo({
          makeClient: () =>
            new ApolloClient({
              ssrMode: true,
              cache: new InMemoryCache(),
              link: new HttpLink({
                uri: (operation) =>
                  endpoint(operation.operationName === 'Shell' ? p.shell : p.boundary),
                headers: p.graphqlMessage ? { 'x-fault-message': p.graphqlMessage } : {},
              }),
            }),
        }),
        emotion(),
      ];
      if (p.plugin) plugins.push(faultyPlugin(p.plugin, log));
      const later = new Promise<void>((resolve) => setTimeout(resolve, 20));
      const result = await renderToHtml(<FaultPage p={p} later={later} />, {
        request: req,
        mode: p.mode,
        plugins,
        timeoutMs: p.timeoutMs,
        onError: (error, info) => log.errors.push(record(error, info)),
      });
      result.pipe(res);
      await result.finished;
    } catch (error) {
      log.handlerFailure = error instanceof Error ? (error.stack ?? error.message) : String(error);
      if (!res.headersSent) res.writeHead(599);
      res.end();
    } finally {
      done();
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/page') {
      void page(req, res, readParams(url));
      return;
    }
    if (url.pathname === '/__log') {
      const entry = logs.get(url.searchParams.get('case') ?? '');
      if (!entry) {
        res.writeHead(404).end();
        return;
      }
      void entry.finished.then(() => {
        logs.delete(url.searchParams.get('case') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(entry.log));
      });
      return;
    }
    if (url.pathname === '/__process') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(processFaults));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Unhandled rejections and uncaught exceptions of the child process (recorded, not fatal, so the test can read them). */
const processFaults: { unhandledRejections: string[]; uncaughtExceptions: string[] } = {
  unhandledRejections: [],
  uncaughtExceptions: [],
};

const backendBase = process.env.KILN_FAULTS_BACKEND;
const downUrl = process.env.KILN_FAULTS_DOWN;
if (backendBase && downUrl && typeof process.send === 'function') {
  process.on('unhandledRejection', (reason) => {
    processFaults.unhandledRejections.push(String(reason));
  });
  process.on('uncaughtException', (error) => {
    processFaults.uncaughtExceptions.push(String(error));
  });
  const app = await startFaultApp({ backendBase, downUrl });
  process.send({ port: Number(new URL(app.url).port) });
  process.once('disconnect', () => {
    void app.close().then(() => process.exit(0));
  });
}
