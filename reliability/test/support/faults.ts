import { type ChildProcess, fork } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createGraphQLError, createSchema, createYoga } from 'graphql-yoga';

/**
 * How the GraphQL backend answers one request:
 * - `healthy`: graphql-yoga answers;
 * - `down`: nothing listens on the port (connection refused);
 * - `slow`: graphql-yoga answers after {@link SLOW_MS}, far beyond the render's `timeoutMs`;
 * - `status500`: HTTP 500 with a text body that looks like a leaked stack trace;
 * - `malformed`: HTTP 200, `application/json`, a body that is not JSON;
 * - `partial`: graphql-yoga answers with `data` and `errors` (`motto` and `Product.stock` fail).
 */
export type Fault = 'healthy' | 'down' | 'slow' | 'status500' | 'malformed' | 'partial';

/** How long the `slow` backend waits before it answers. */
export const SLOW_MS = 8_000;

/** Text the backend puts in its broken answers; none of it may reach a production page. */
export const BACKEND_SECRETS = {
  status500: 'backend-secret-500',
  malformed: 'backend-secret-malformed',
} as const;

/** The body of the 500 answer: an internal message with a stack frame and a file path. */
const STATUS_500_BODY = `Internal error: ${BACKEND_SECRETS.status500} (db password rejected)\n    at Resolver.product (/work/backend/src/db.tsx:12:7)\n`;

/**
 * The body of the malformed answer: what a proxy's error page sent as JSON looks like. Apollo's
 * `ServerParseError` quotes the JSON parser's message, which shows the first ten characters of
 * the body (`"<html><bod"...`), and `@kiln/apollo` sends that message to the browser so the
 * hydrating `useQuery` shows the same error; the secret and the path lie beyond that quote.
 */
const MALFORMED_BODY = `<html><body>upstream failed: ${BACKEND_SECRETS.malformed} at /work/backend/proxy.tsx:3</body></html>`;

/** The message of the GraphQL error of the `partial` backend when the request names none. */
export const DEFAULT_GRAPHQL_ERROR = 'this field is not available';

const typeDefs = /* GraphQL */ `
  type Query {
    greeting: String!
    motto: String
    product: Product!
  }
  type Product {
    id: ID!
    name: String!
    stock: String
  }
`;

interface BackendContext {
  fault: Fault;
  request: Request;
}

/** Throws the GraphQL error of the `partial` backend; returns undefined for the others. */
function partialFailure(ctx: BackendContext): undefined {
  if (ctx.fault !== 'partial') return undefined;
  // graphql-yoga's own GraphQLError class, so the error is sent as it is, not masked
  throw createGraphQLError(ctx.request.headers.get('x-fault-message') ?? DEFAULT_GRAPHQL_ERROR);
}

/** What the backend saw, per fault. */
export type BackendLog = Record<Fault, number>;

/** A GraphQL backend on loopback whose behaviour is chosen by the request path `/graphql/<fault>`. */
export interface FaultyBackend {
  /** The endpoint for a fault: `http://127.0.0.1:<port>/graphql/<fault>`, or a closed port for `down`. */
  urlFor(fault: Fault): string;
  /** The base URL (`http://127.0.0.1:<port>/graphql`). */
  readonly base: string;
  /** An endpoint on a port nothing listens on. */
  readonly downUrl: string;
  readonly log: BackendLog;
  /** Requests to the `slow` backend whose connection is still open. */
  slowOpen(): number;
  close(): Promise<void>;
}

/** A loopback port that was free a moment ago and on which nothing listens now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function isFault(value: string): value is Fault {
  return ['healthy', 'down', 'slow', 'status500', 'malformed', 'partial'].includes(value);
}

/** Starts the fault-injecting GraphQL backend (graphql-yoga behind a node:http server). */
export async function startFaultyBackend(): Promise<FaultyBackend> {
  const log: BackendLog = {
    healthy: 0,
    down: 0,
    slow: 0,
    status500: 0,
    malformed: 0,
    partial: 0,
  };
  const yoga = createYoga<BackendContext>({
    logging: false,
    graphqlEndpoint: '/graphql',
    schema: createSchema<BackendContext>({
      typeDefs,
      resolvers: {
        Query: {
          greeting: () => 'Hello from the backend',
          motto: (_: unknown, __: unknown, ctx: BackendContext) =>
            partialFailure(ctx) ?? 'Fired daily',
          product: () => ({ id: 'p1', name: 'Kiln-fired mug' }),
        },
        Product: {
          stock: (_: unknown, __: unknown, ctx: BackendContext) =>
            partialFailure(ctx) ?? 'In stock',
        },
      },
    }),
  });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let slowOpen = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const match = /^\/graphql\/([a-z0-9]+)$/.exec(req.url ?? '');
    const fault = match?.[1];
    if (fault === undefined || !isFault(fault)) {
      res.writeHead(404).end();
      return;
    }
    log[fault]++;
    const answer = (): void => {
      req.url = '/graphql';
      void yoga(req, res, { fault });
    };
    switch (fault) {
      case 'status500':
        req.resume();
        res.writeHead(500, { 'content-type': 'text/plain' }).end(STATUS_500_BODY);
        return;
      case 'malformed':
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end(MALFORMED_BODY);
        return;
      case 'slow': {
        slowOpen++;
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) answer();
        }, SLOW_MS);
        timers.add(timer);
        res.on('close', () => {
          slowOpen--;
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      default:
        answer();
    }
  };
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}/graphql`;
  const downUrl = `http://127.0.0.1:${await closedPort()}/graphql`;
  return {
    base,
    downUrl,
    log,
    slowOpen: () => slowOpen,
    urlFor: (fault) => (fault === 'down' ? downUrl : `${base}/${fault}`),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Kiln app server running in a child process with `NODE_ENV=production`. */
export interface ChildApp {
  readonly url: string;
  /** Whether the child process is still running. */
  alive(): boolean;
  /** What the child wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

const CHILD_FILE = fileURLToPath(new URL('./faults-child.tsx', import.meta.url));
const RELIABILITY_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts `faults-child.tsx` under tsx (`--conditions=@kiln/source`, so packages resolve to
 * their sources) with `NODE_ENV=production`, so React, emotion and Kiln load their production
 * builds and paths from the first import on. Resolves when the child reports its port.
 */
export function startChildApp(backend: FaultyBackend): Promise<ChildApp> {
  const child: ChildProcess = fork(CHILD_FILE, [], {
    cwd: RELIABILITY_DIR,
    execArgv: ['--import', 'tsx', '--conditions=@kiln/source'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      KILN_FAULTS_BACKEND: backend.base,
      KILN_FAULTS_DOWN: backend.downUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (!alive()) return;
    if (child.connected) child.disconnect();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };
  return new Promise<ChildApp>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the faults child did not start within 60 s:\n${output}`));
    }, 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      const { port } = message as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, alive, output: () => output, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the faults child exited with code ${code} before listening:\n${output}`));
    });
  });
}
