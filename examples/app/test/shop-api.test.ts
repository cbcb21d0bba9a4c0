import { describe, expect, it } from 'vitest';
import { createShopGraphQL } from '../src/graphql/schema';
import { createShopStore } from '../src/graphql/store';
import { visitorCookie, visitorFromCookieHeader } from '../src/graphql/visitor';

interface Answer {
  data?: {
    viewer?: { name: string | null; signedIn: boolean; discountPercent: number };
    product?: { price?: number; listPrice?: number; stock?: number; views?: number };
    visits?: number;
    serverTime?: string;
    picks?: { reason: string; product: { id: string } }[];
  };
  errors?: unknown[];
}

function api(now: () => number = Date.now) {
  const yoga = createShopGraphQL({ store: createShopStore({ now }), picksLatencyMs: 5 });
  return async (query: string, cookie?: string) => {
    const response = await yoga.fetch('http://shop.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as Answer;
  };
}

describe('the demo GraphQL API', () => {
  it('prices for members and guests from the visitor cookie', async () => {
    const query = api();
    const q =
      '{ viewer { name signedIn discountPercent } product(id: "kettle") { price listPrice } }';
    const guest = await query(q);
    const ada = await query(q, `other=1; ${visitorCookie('Ada').split(';')[0]}`);
    expect(guest.data).toEqual({
      viewer: { name: null, signedIn: false, discountPercent: 0 },
      product: { price: 4900, listPrice: 4900 },
    });
    expect(ada.data).toEqual({
      viewer: { name: 'Ada', signedIn: true, discountPercent: 10 },
      product: { price: 4410, listPrice: 4900 },
    });
  });

  it('counts visits and product views, and sells stock as time passes', async () => {
    let now = 1_000_000;
    const query = api(() => now);
    const read = () => query('{ visits serverTime product(id: "grinder") { stock views } }');
    const first = await read();
    expect(first.data).toMatchObject({ visits: 1, product: { stock: 4, views: 1 } });
    now += 13_000 * 2; // the grinder sells one every 13 s
    const later = await read();
    expect(later.data).toMatchObject({ visits: 2, product: { stock: 2, views: 2 } });
    expect(Date.parse(later.data!.serverTime!) - Date.parse(first.data!.serverTime!)).toBe(26_000);
    now += 13_000 * 3; // sold out after 4, restocked after 5
    expect((await read()).data!.product!.stock).toBe(4);
  });

  it('answers the slow staff picks query after its latency, always in the same order', async () => {
    const query = api();
    const started = performance.now();
    const { data } = await query('{ picks { reason product { id } } }');
    expect(performance.now() - started).toBeGreaterThanOrEqual(4);
    expect(data!.picks!.map((p) => p.product.id)).toEqual(['grinder', 'kettle', 'teapot']);
  });

  it('reads and writes the visitor cookie', () => {
    expect(visitorFromCookieHeader('kiln_visitor=%20Grace%20')).toBe('Grace');
    expect(visitorFromCookieHeader('kiln_visitor=')).toBeUndefined();
    expect(visitorFromCookieHeader(null)).toBeUndefined();
    expect(visitorCookie(undefined)).toMatch(/^kiln_visitor=; Max-Age=0; Path=\//);
    expect(visitorCookie('A'.repeat(10))).toContain('HttpOnly');
  });
});
