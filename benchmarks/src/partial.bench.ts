/**
 * @module
 * `pnpm bench partial`: partial pre-rendering of the shop page for a signed-in visitor, beside
 * a full Kiln render of the same page for the same visitor, the static floor (the same page's
 * bytes, precomputed) and a page-cache hit (a guest), all in one run, in this process.
 *
 * The page: the header (greeting, cart count) is the hole, read from the `Viewer` operation,
 * which `apollo({ personal })` names; the 60 product cards (guest prices) with their reviews
 * are the shell. Each row renders into a Node writable; the first byte is the time until the
 * first write, CPU is this process's user + system time during one request, req/s is one
 * core's worth (1000 / CPU ms). Before timing, every row's page is checked: the greeting of the
 * visitor (Ada; a guest for the page-cache hit), 60 cards, and for the partial row the
 * `x-kiln-cache: partial` header.
 */
import { Writable } from 'node:stream';
import { memoryStore, pageCache, partialCache } from '@kiln/cache';
import { type RenderOptions, type RenderResult, renderToHtml } from '@kiln/core';
import { createElement } from 'react';
import { compare, formatMs, formatRatio, quantile, quick, saveResults } from './harness';
import { shopRequest } from './kiln';
import { PartialShopPage, partialShopPlugins } from './partial-page';
import { createSchema } from './shop/index';

const USER = 'ada';

/** A writable that records when its first byte arrived and resolves when it ends. */
function sink(): { stream: Writable; firstByte: () => number; done: Promise<Buffer[]> } {
  let first = 0;
  const parts: Buffer[] = [];
  let resolve!: (parts: Buffer[]) => void;
  const done = new Promise<Buffer[]>((r) => {
    resolve = r;
  });
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (first === 0) first = performance.now();
      parts.push(chunk);
      callback();
    },
    final(callback) {
      resolve(parts);
      callback();
    },
  });
  return { stream, firstByte: () => first, done };
}

interface Served {
  /** The document as written (joined only by the checks, not while timing). */
  parts: Buffer[];
  firstByteMs: number;
  cache: string | null;
}

async function serve(render: () => Promise<RenderResult>): Promise<Served> {
  const started = performance.now();
  const result = await render();
  const out = sink();
  result.pipe(out.stream);
  const parts = await out.done;
  return {
    parts,
    firstByteMs: out.firstByte() - started,
    cache: result.headers.get('x-kiln-cache'),
  };
}

function check(label: string, served: Served, user: string | undefined, cache?: string): void {
  const html = Buffer.concat(served.parts).toString('utf8');
  const cards = html.match(/data-product="/g)?.length ?? 0;
  const problems: string[] = [];
  if (cards !== 60) problems.push(`${cards} cards, not 60`);
  if (user && !html.toLowerCase().includes(user)) problems.push(`no greeting of ${user}`);
  if (!user && html.toLowerCase().includes(USER)) problems.push(`the guest sees ${USER}`);
  if (cache && served.cache !== cache) problems.push(`x-kiln-cache ${served.cache}, not ${cache}`);
  if (problems.length > 0)
    throw new Error(`[kiln/benchmarks] partial ${label}: ${problems.join('; ')}`);
}

export default async function run(): Promise<string> {
  const schema = createSchema({ latencyMs: 0 });
  const options = (user: string | undefined): RenderOptions => ({
    request: shopRequest(user),
    nonce: 'YmVuY2htYXJrLW5vbmNlLTEyMw',
    plugins: partialShopPlugins(schema),
  });
  const pages = pageCache({ store: memoryStore(), ttl: 3_600_000 });
  const shells = partialCache({ store: memoryStore(), ttl: 3_600_000 });
  const page = createElement(PartialShopPage);

  const full = () => renderToHtml(page, options(USER));
  const floorBytes = Buffer.concat((await serve(full)).parts);
  const rows: Record<string, () => Promise<Served>> = {
    'static floor (precomputed bytes)': async () => {
      const started = performance.now();
      const out = sink();
      out.stream.end(floorBytes);
      const parts = await out.done;
      return { parts, firstByteMs: out.firstByte() - started, cache: null };
    },
    'page cache hit (guest)': () => serve(() => pages.render(page, options(undefined))),
    'full Kiln render (signed in)': () => serve(full),
    'partial: shell + hole (signed in)': () => serve(() => shells.render(page, options(USER))),
  };

  // warm the caches, then check every row's page
  await (await pages.render(page, options(undefined))).text();
  await (await shells.render(page, options(USER))).text();
  await Promise.all([pages.idle(), shells.idle()]);
  check('floor', await rows['static floor (precomputed bytes)']!(), USER);
  check('page cache', await rows['page cache hit (guest)']!(), undefined, 'hit');
  check('full', await rows['full Kiln render (signed in)']!(), USER);
  check('partial', await rows['partial: shell + hole (signed in)']!(), USER, 'partial');

  const firstBytes = new Map<string, number[]>(Object.keys(rows).map((name) => [name, []]));
  const stats = await compare({
    title: 'partial',
    baseline: 'full Kiln render (signed in)',
    rounds: quick ? 3 : 40,
    rows: Object.entries(rows).map(([name, fn]) => ({
      name,
      run: async () => {
        firstBytes.get(name)!.push((await fn()).firstByteMs);
      },
    })),
  });
  const ttfb = (name: string) => quantile(firstBytes.get(name)!, 0.5);
  const floorTtfb = ttfb('static floor (precomputed bytes)');
  const lines = [
    '### Partial pre-rendering, the shop page (60 cards, the header is the hole), in process',
    '',
    '| row | first byte ms (median) | × floor first byte | done ms (median) | CPU ms/req | × full render CPU | req/s per core |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of stats) {
    lines.push(
      `| ${row.name} | ${formatMs(ttfb(row.name))} | ${formatRatio(ttfb(row.name) / floorTtfb)} | ${formatMs(row.medianMs)} | ${formatMs(row.cpuMedianMs)} | ${formatRatio(row.cpuRatio)} | ${(1000 / row.cpuMedianMs).toFixed(0)} |`,
    );
  }
  lines.push(
    '',
    `<sub>${stats[0]?.samples ?? 0} samples per row${quick ? ' (quick run)' : ''}</sub>`,
  );
  saveResults('partial', {
    stats,
    firstByteMs: Object.fromEntries(
      [...firstBytes].map(([name, values]) => [name, quantile(values, 0.5)]),
    ),
  });
  return lines.join('\n');
}
