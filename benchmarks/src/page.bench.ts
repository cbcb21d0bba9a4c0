/**
 * @module
 * `pnpm bench page`: the whole shop page in one process, every pipeline against the floor
 * (`renderToString` of the `useQuery` page into a cache restored with all its data).
 *
 * Rows: the floor of both variants; data-then-render (the page's 62 operations with
 * `client.query()` into a fresh cache, then one `renderToString`: the limit of any data
 * strategy); the hand-rolled pipeline (`prerenderStatic` passes + `renderToString` + emotion's
 * `extractCriticalToChunks` + serialize-javascript); React's own stream collected at `onAllReady`
 * for the suspense variant; Kiln buffered and streamed for both variants (the whole document), and
 * Kiln buffered with `directResults: false` (every result written into the cache and read back).
 * Every row's page is checked before anything is timed.
 */
import { compare, markdownTable, quick, type Row, saveResults } from './harness';
import {
  assertShopPage,
  createSchema,
  renderDataThenRender,
  renderFloor,
  renderHandRolled,
  renderSuspenseAllReady,
  type ShopExpectations,
  snapshot,
} from './shop/index';

const USER = 'ada';

interface Candidate {
  name: string;
  render: () => Promise<string> | string;
  expect: ShopExpectations;
}

const bare: ShopExpectations = { user: USER, state: false, document: false, styles: false };
const full: ShopExpectations = { user: USER };

/** Runs the page benchmark and returns its Markdown table. */
export default async function run(): Promise<string> {
  const schema = createSchema({ latencyMs: 0 });
  const request = { schema, user: USER };
  const data = await snapshot(request);

  const candidates: Candidate[] = [
    {
      name: 'floor: renderToString, cache full',
      render: () => renderFloor(request, data),
      expect: bare,
    },
    {
      name: 'floor, suspense variant',
      render: () => renderFloor(request, data, 'suspense'),
      expect: bare,
    },
    {
      name: 'data then render (62 × client.query + renderToString)',
      render: () => renderDataThenRender(request),
      expect: bare,
    },
    {
      name: 'hand-rolled: prerenderStatic + extractCritical + serialize',
      render: () => renderHandRolled(request),
      expect: full,
    },
    {
      name: 'suspense: React onAllReady + extractCritical + serialize',
      render: () => renderSuspenseAllReady(request),
      expect: full,
    },
  ];

  const notes: string[] = [];
  try {
    const { kilnShopHtml } = await import('./kiln');
    for (const variant of ['query', 'suspense'] as const) {
      for (const mode of ['buffer', 'stream'] as const) {
        candidates.push({
          name: `Kiln ${mode === 'buffer' ? 'buffered' : 'streamed'}, ${variant === 'query' ? 'useQuery' : 'suspense'} page`,
          render: () => kilnShopHtml({ ...request, variant, mode }),
          expect: full,
        });
      }
      // the same page with every result written into the normalised cache and read back
      candidates.push({
        name: `Kiln buffered, ${variant === 'query' ? 'useQuery' : 'suspense'} page, directResults off`,
        render: () => kilnShopHtml({ ...request, variant, mode: 'buffer', directResults: false }),
        expect: full,
      });
    }
  } catch (error) {
    notes.push(`Kiln rows skipped: the Kiln packages do not load (${(error as Error).message}).`);
  }

  const rows: Row[] = [];
  const bytes: Record<string, number> = {};
  for (const candidate of candidates) {
    try {
      const html = await candidate.render();
      assertShopPage(candidate.name, html, candidate.expect);
      bytes[candidate.name] = Buffer.byteLength(html);
      rows.push({ name: candidate.name, run: candidate.render });
    } catch (error) {
      notes.push(`${candidate.name} skipped: ${(error as Error).message}`);
    }
  }
  const baseline = candidates[0]!.name;
  if (!rows.some((row) => row.name === baseline)) throw new Error(notes.join('\n'));

  const title = 'Shop page, one process (ratios to the floor)';
  const stats = await compare({
    title,
    baseline,
    rows,
    rounds: quick ? 1 : 30,
    warmup: quick ? 0 : 5,
  });
  saveResults('page', { stats, bytes, notes });
  const sizes = Object.entries(bytes)
    .map(([name, size]) => `${name}: ${(size / 1024).toFixed(0)} KB`)
    .join('; ');
  return [
    markdownTable(title, stats),
    '',
    `Output sizes: ${sizes}.`,
    ...notes.map((n) => `\n> ${n}`),
  ].join('\n');
}
