/**
 * @module
 * `pnpm bench ssr-table`: a workload written outside this project, the table page of the public
 * `eknkc/ssr-benchmark` (https://github.com/eknkc/ssr-benchmark): 1,000 rows of two UUID columns,
 * the data loaded through Suspense (`use()` of a promise that resolves on `setImmediate`), rendered
 * into a mock response. Plain `renderToPipeableStream` (its React case, and the same app inside a
 * minimal document, since Kiln renders whole documents) beside Kiln's `renderToHtml` of that
 * document, streamed and buffered, in one run; reported as ops/s like the published table (React
 * 766 ops/s there, on an M1 Pro with Node 20), and as ratios to plain React.
 *
 * Our own port of, at commit c6af3e610029aa36d2c3d6957658d1de1f0905db:
 * - `modules/react/src/App.tsx` (the page) and `modules/react/src/entry-server.tsx` (the handler:
 *   `renderToPipeableStream(<App />)` piped at once into the response);
 * - `modules/testdata/index.js` (the data: 1,000 `{ id, name }` of `crypto.randomUUID()`, made
 *   once, handed out through a new promise per render);
 * - `src/http.js` (the mock `ServerResponse`: a `Writable` that counts bytes; a request ends when
 *   the stream is destroyed after its end).
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { renderToHtml } from '@kiln/core';
import { createElement as h, type ReactNode, Suspense, use, useRef } from 'react';
import { renderToPipeableStream } from 'react-dom/server';
import { compare, formatRatio, markdownTable, quick, saveResults } from './harness';

interface Entry {
  id: string;
  name: string;
}

const data: Entry[] = Array.from({ length: 1000 }, () => ({
  id: randomUUID(),
  name: randomUUID(),
}));

function testData(): Promise<Entry[]> {
  return new Promise((resolve) => setImmediate(() => resolve(data)));
}

function App(): ReactNode {
  const dataRef = useRef<Promise<Entry[]>>(undefined);
  if (!dataRef.current) dataRef.current = testData();
  return h(Suspense, null, h(Table, { data: dataRef.current }));
}

function Table(props: { data: Promise<Entry[]> }): ReactNode {
  const rows = use(props.data);
  return h(
    'table',
    null,
    h(
      'tbody',
      null,
      rows.map((entry) => h(Row, { key: entry.id, entry })),
    ),
  );
}

function Row(props: { entry: Entry }): ReactNode {
  return h('tr', null, h('td', null, props.entry.id), h('td', null, props.entry.name));
}

/** The mock response: counts bytes (and keeps the text when asked); settles when destroyed. */
function mockResponse(collect: boolean): { res: Writable; done: Promise<string | number> } {
  let length = 0;
  let body = '';
  const decoder = new TextDecoder();
  let settle!: (value: string | number) => void;
  const done = new Promise<string | number>((resolve) => {
    settle = resolve;
  });
  const res = new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      length += chunk.length;
      if (collect) body += decoder.decode(chunk);
      callback();
    },
    destroy(_error, callback) {
      settle(collect ? body : length);
      callback(null);
    },
  });
  return { res, done };
}

/**
 * The app in a minimal document. Kiln renders whole documents (its head HTML goes into `<head>`),
 * so the comparison that counts is React and Kiln rendering this same element.
 */
function Document(): ReactNode {
  return h(
    'html',
    { lang: 'en' },
    h('head', null, h('title', null, 'ssr-benchmark')),
    h('body', null, h(App)),
  );
}

/** The upstream React handler: `renderToPipeableStream(<App />)`, piped at once. */
function react(element: ReactNode, collect = false): Promise<string | number> {
  const { res, done } = mockResponse(collect);
  renderToPipeableStream(element, {
    onError(error) {
      errors.push(error);
    },
  }).pipe(res);
  return done;
}

/** The same page through Kiln: `renderToHtml`, then `pipe` into the same mock response. */
async function kiln(mode: 'stream' | 'buffer', collect = false): Promise<string | number> {
  const { res, done } = mockResponse(collect);
  const result = await renderToHtml(h(Document), {
    mode,
    onError(error) {
      errors.push(error);
    },
  });
  result.pipe(res);
  return done;
}

/** Errors reported by any render; the run fails if there is one. */
const errors: unknown[] = [];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Every UUID of the data is in the page once (upstream's "duplication" factor is 1). */
function check(name: string, body: string): void {
  const counts = new Map<string, number>();
  for (const [match] of body.matchAll(UUID)) counts.set(match, (counts.get(match) ?? 0) + 1);
  const missing = data.filter((e) => counts.get(e.id) !== 1 || counts.get(e.name) !== 1);
  if (counts.size !== 2000 || missing.length > 0 || !body.includes('<table>')) {
    throw new Error(
      `[kiln/benchmarks] ssr-table: ${name} did not render the 1,000 rows once each (${counts.size} UUIDs)`,
    );
  }
}

/** Runs the benchmark and returns its Markdown table. */
export default async function run(): Promise<string> {
  const bodies = {
    'react, upstream App': String(await react(h(App), true)),
    react: String(await react(h(Document), true)),
    'kiln stream': String(await kiln('stream', true)),
    'kiln buffer': String(await kiln('buffer', true)),
  };
  for (const [name, body] of Object.entries(bodies)) check(name, body);
  if (errors.length > 0) throw new Error(`[kiln/benchmarks] ssr-table: ${String(errors[0])}`);
  const baseline = 'react-dom renderToPipeableStream, document';
  const stats = await compare({
    title: 'ssr-table',
    baseline,
    rows: [
      { name: 'react-dom renderToPipeableStream, upstream App', run: () => react(h(App)) },
      { name: baseline, run: () => react(h(Document)) },
      { name: 'Kiln renderToHtml, stream', run: () => kiln('stream') },
      { name: 'Kiln renderToHtml, buffer', run: () => kiln('buffer') },
    ],
    rounds: quick ? 3 : 300,
    warmup: quick ? 1 : 50,
  });
  saveResults('ssr-table', {
    stats,
    bytes: Object.fromEntries(Object.entries(bodies).map(([k, v]) => [k, v.length])),
  });
  const base = stats.find((s) => s.name === baseline)!;
  const opsLines = stats.map(
    (s) =>
      `| ${s.name} | ${(1000 / s.medianMs).toFixed(0)} | ${formatRatio(base.medianMs / s.medianMs)} | ${(1000 / s.cpuMedianMs).toFixed(0)} | ${formatRatio(base.cpuMedianMs / s.cpuMedianMs)} |`,
  );
  const sizes = Object.entries(bodies)
    .map(([k, v]) => `${k} ${(Buffer.byteLength(v) / 1024).toFixed(2)} KiB`)
    .join(' · ');
  return [
    markdownTable(
      'eknkc/ssr-benchmark table page (1,000 rows × 2 UUIDs, Suspense), ratios to plain React',
      stats,
    ),
    '',
    '| row | ops/s (1000 / median ms) | × React ops/s | ops/s by CPU time | × React (CPU) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...opsLines,
    '',
    `Body: ${sizes}. The baseline renders the app inside a minimal document (\`<html>\`, \`<head>\` with a title, \`<body>\`), as Kiln needs; the upstream row renders the bare app as the published table does.`,
  ].join('\n');
}
