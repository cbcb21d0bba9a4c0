import { type RenderResult, useRenderContext } from '@kiln/core';
import { type RedisServer, startRedis } from '@kiln/test-utils';
import { type ReactNode, Suspense } from 'react';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCacheTags } from '../src/control';
import { redisLock } from '../src/lock';
import { memoryStore } from '../src/memory-store';
import { type PartialCacheOptions, partialCache } from '../src/partial-cache';
import { type RedisClientLike, redisStore } from '../src/redis-store';
import type { Store } from '../src/store';

/** Counts how often the shell's static part rendered (resumes do not render it). */
interface Counter {
  shell: number;
}

function Greeting(): ReactNode {
  const name = useRenderContext().cookies.user;
  return <p id="greeting">{name ? `Hello ${name}` : 'Hello guest'}</p>;
}

function Catalog(props: { counter: Counter; version: string }): ReactNode {
  props.counter.shell++;
  useCacheTags('catalog');
  return <h1>Catalog {props.version}</h1>;
}

/** The shop's document around `children`. */
function Doc(props: { lang?: string; children: ReactNode }): ReactNode {
  return (
    <html lang={props.lang ?? 'en'}>
      <head>
        <title>shop</title>
      </head>
      <body>{props.children}</body>
    </html>
  );
}

function Page(props: {
  counter: Counter;
  version?: string;
  holes?: boolean;
  lang?: string;
}): ReactNode {
  return (
    <Doc lang={props.lang}>
      <Catalog counter={props.counter} version={props.version ?? 'v1'} />
      {props.holes === false ? null : (
        <Suspense fallback={<p id="greeting">Welcome</p>}>
          <Greeting />
        </Suspense>
      )}
    </Doc>
  );
}

/** A page for a path that does not exist: a 404 with the shop's shell. */
function Missing(props: { counter: Counter }): ReactNode {
  useRenderContext().setStatus(404);
  return <Page counter={props.counter} />;
}

/** The catalogue in the language of `accept-language`, read outside any boundary. */
function Localised(props: { counter: Counter }): ReactNode {
  const language = useRenderContext().headers.get('accept-language') ?? 'en';
  return (
    <Page
      counter={props.counter}
      version={language.startsWith('fr') ? 'fr' : 'en'}
      lang={language}
    />
  );
}

function ReadsCookieHeader(): ReactNode {
  const cookie = useRenderContext().headers.get('cookie');
  return (
    <Doc>
      <p>{cookie ?? 'no cookie'}</p>
    </Doc>
  );
}

function Outside(): ReactNode {
  return <p>{useRenderContext().cookies.user ?? 'nobody'}</p>;
}

function request(user?: string, path = '/shop'): Request {
  return new Request(`http://shop.test${path}`, {
    headers: {
      'user-agent': 'Mozilla/5.0 Chrome/120',
      ...(user ? { cookie: `user=${user}` } : {}),
    },
  });
}

function clock(start = 1_700_000_000_000) {
  let at = start;
  return {
    now: () => at,
    advance(ms: number) {
      at += ms;
    },
  };
}

async function body(result: RenderResult): Promise<string> {
  return (await result.text()).replaceAll('<!-- -->', '');
}

function setup(options: Partial<PartialCacheOptions> = {}, store: Store = memoryStore()) {
  const time = clock();
  const shells = partialCache({ store, ttl: 60_000, now: time.now, ...options });
  return { shells, time };
}

describe('partialCache', () => {
  it('pre-renders once on a miss, then serves the shell with each visitor’s own holes', async () => {
    const { shells } = setup();
    const counter = { shell: 0 };
    const first = await shells.render(<Page counter={counter} />, { request: request('Ada') });
    expect(first.headers.get('x-kiln-cache')).toBe('miss');
    expect(await body(first)).toContain('Hello Ada');
    await shells.idle();
    const second = await shells.render(<Page counter={counter} />, { request: request('Bo') });
    expect(second.headers.get('x-kiln-cache')).toBe('partial');
    expect(second.cache.holes).toBe(1);
    const html = await body(second);
    expect(html).toContain('Hello Bo');
    expect(html).not.toContain('Ada');
    const guest = await body(
      await shells.render(<Page counter={counter} />, { request: request() }),
    );
    expect(guest).toContain('Hello guest');
    expect(counter.shell).toBe(1);
  });

  it('in template mode: the shell is pre-rendered into the template, resumed with each visitor’s holes', async () => {
    const { shells } = setup();
    const counter = { shell: 0 };
    const template =
      '<!DOCTYPE html><html><head><!--app-head--></head><body><div id="root"><!--app-html--></div><p>tail</p></body></html>';
    const app = (
      <main>
        <Catalog counter={counter} version="v1" />
        <Suspense fallback={<p id="greeting">Welcome</p>}>
          <Greeting />
        </Suspense>
      </main>
    );
    const first = await shells.render(app, { request: request('Ada'), template });
    expect(first.headers.get('x-kiln-cache')).toBe('miss');
    expect(await body(first)).toContain('Hello Ada');
    await shells.idle();
    const second = await shells.render(app, { request: request('Bo'), template });
    expect(second.headers.get('x-kiln-cache')).toBe('partial');
    const html = await body(second);
    expect(html).toContain('Hello Bo');
    expect(html).not.toContain('Ada');
    expect(html.endsWith('<p>tail</p></body></html>')).toBe(true);
    expect(counter.shell).toBe(1);
  });

  it('a crawler bypasses the shell: the whole page is rendered for it', async () => {
    const { shells } = setup();
    const counter = { shell: 0 };
    await (await shells.render(<Page counter={counter} />, { request: request('A') })).text();
    await shells.idle();
    const bot = await shells.render(<Page counter={counter} />, {
      request: new Request('http://shop.test/shop', {
        headers: { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' },
      }),
    });
    expect(bot.headers.get('x-kiln-cache')).toBe('bypass');
    const html = await body(bot);
    expect(html).toContain('Hello guest');
    expect(html).not.toContain('$RC');
  });

  it('a page without holes is a hit; POST bypasses', async () => {
    const { shells } = setup();
    const counter = { shell: 0 };
    await (
      await shells.render(<Page counter={counter} holes={false} />, { request: request() })
    ).text();
    await shells.idle();
    const hit = await shells.render(<Page counter={counter} holes={false} />, {
      request: request(),
    });
    expect(hit.headers.get('x-kiln-cache')).toBe('hit');
    expect(await body(hit)).toContain('Catalog v1');
    expect(counter.shell).toBe(1);
    const post = await shells.render(<Page counter={counter} holes={false} />, {
      request: new Request('http://shop.test/shop', { method: 'POST' }),
    });
    expect(post.headers.get('x-kiln-cache')).toBe('bypass');
    await post.text();
  });

  it('single flight: concurrent misses pre-render once', async () => {
    const { shells } = setup();
    const counter = { shell: 0 };
    const results = await Promise.all(
      ['A', 'B', 'C'].map((user) =>
        shells.render(<Page counter={counter} />, { request: request(user) }),
      ),
    );
    const htmls = await Promise.all(results.map(body));
    expect(counter.shell).toBe(1);
    expect(results.map((r) => r.headers.get('x-kiln-cache')).sort()).toEqual([
      'miss',
      'partial',
      'partial',
    ]);
    htmls.forEach((html, i) => {
      expect(html).toContain(`Hello ${['A', 'B', 'C'][i]}`);
    });
  });

  it('serves a stale shell while one background pre-render refreshes it; tag invalidation rebuilds', async () => {
    const { shells, time } = setup({ staleWhileRevalidate: 60_000 });
    const counter = { shell: 0 };
    await (await shells.render(<Page counter={counter} />, { request: request('A') })).text();
    await shells.idle();
    time.advance(61_000);
    const stale = await shells.render(<Page counter={counter} version="v2" />, {
      request: request('B'),
    });
    expect(stale.headers.get('x-kiln-cache')).toBe('stale');
    expect(await body(stale)).toContain('Catalog v1');
    await shells.idle();
    expect(counter.shell).toBe(2);
    const fresh = await shells.render(<Page counter={counter} version="v2" />, {
      request: request('B'),
    });
    expect(fresh.headers.get('x-kiln-cache')).toBe('partial');
    expect(await body(fresh)).toContain('Catalog v2');

    expect(await shells.invalidate('catalog')).toBe(1);
    const rebuilt = await shells.render(<Page counter={counter} version="v3" />, {
      request: request('C'),
    });
    expect(rebuilt.headers.get('x-kiln-cache')).toBe('miss');
    const html = await body(rebuilt);
    expect(html).toContain('Catalog v3');
    expect(html).toContain('Hello C');
    expect(counter.shell).toBe(3);
  });

  it('a shell whose status is not 200 serves its own requests but is never stored', async () => {
    const errors: unknown[] = [];
    const store = memoryStore();
    const { shells } = setup({ onError: (error) => errors.push(error) }, store);
    const counter = { shell: 0 };
    const renderErrors: unknown[] = [];
    for (const user of ['Ada', 'Bo']) {
      const result = await shells.render(<Missing counter={counter} />, {
        request: request(user, '/made-up-path'),
        onError: (error) => renderErrors.push(error),
      });
      expect(result.status).toBe(404);
      expect(result.headers.get('x-kiln-cache')).toBe('miss');
      expect(await body(result)).toContain(`Hello ${user}`);
      await shells.idle();
    }
    // each request pre-rendered its own shell: nothing was stored for the made-up path
    expect(counter.shell).toBe(2);
    // the resume renders Missing again: asking for the 404 that went out is no mistake
    expect(renderErrors).toEqual([]);
    expect(errors).toHaveLength(2);
    expect(String(errors[0])).toContain('is not stored: status 404');
  });

  it('vary headers are in the shell: one shell per language, read outside any boundary', async () => {
    const { shells } = setup({ vary: ['accept-language'] });
    const counter = { shell: 0 };
    const visit = async (language: string, user: string) => {
      const result = await shells.render(<Localised counter={counter} />, {
        request: new Request('http://shop.test/shop', {
          headers: { 'accept-language': language, cookie: `user=${user}` },
        }),
      });
      return { cache: result.headers.get('x-kiln-cache'), html: await body(result) };
    };
    expect((await visit('fr', 'Ada')).cache).toBe('miss');
    expect((await visit('en', 'Bo')).cache).toBe('miss');
    await shells.idle();
    const fr = await visit('fr', 'Cy');
    const en = await visit('en', 'Di');
    expect(fr.cache).toBe('partial');
    expect(fr.html).toContain('<html lang="fr">');
    expect(fr.html).toContain('Catalog fr');
    expect(fr.html).toContain('Hello Cy');
    expect(en.cache).toBe('partial');
    expect(en.html).toContain('Catalog en');
    expect(en.html).toContain('Hello Di');
    expect(counter.shell).toBe(2);
  });

  it('credentials in vary key the shells but never reach a pre-render', async () => {
    const { shells } = setup({ vary: ['accept-language', 'cookie'] });
    const result = await shells.render(<ReadsCookieHeader />, { request: request('Ada') });
    expect(result.cache.status).toBe('dynamic');
    expect(await body(result)).toContain('user=Ada');
  });

  it('a page that reads request input outside any boundary is rendered in full, every time', async () => {
    const { shells } = setup({ onError: () => {} });
    const page = (
      <html lang="en">
        <head />
        <body>
          <Outside />
        </body>
      </html>
    );
    await (await shells.render(page, { request: request('A'), onError: () => {} })).text();
    await shells.idle();
    const second = await shells.render(page, { request: request('B') });
    expect(second.headers.get('x-kiln-cache')).toBe('dynamic');
    expect(await body(second)).toContain('<p>B</p>');
  });
});

describe('partialCache on Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a shell stored by one instance is resumed by another', async () => {
    const clients = [createClient({ url: redis.url }), createClient({ url: redis.url })];
    await Promise.all(clients.map((client) => client.connect()));
    try {
      const stores = clients.map((client) =>
        redisStore(client as unknown as RedisClientLike, { prefix: 'partial-test:' }),
      );
      const one = setup({}, stores[0]);
      const two = setup({}, stores[1]);
      const counter = { shell: 0 };
      await (await one.shells.render(<Page counter={counter} />, { request: request('A') })).text();
      await one.shells.idle();
      const served = await two.shells.render(<Page counter={counter} />, {
        request: request('B'),
      });
      expect(served.headers.get('x-kiln-cache')).toBe('partial');
      expect(await body(served)).toContain('Hello B');
      expect(counter.shell).toBe(1);
      for (const store of stores) store.close();
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('with a lock, instances sharing a store pre-render a cold shell once and refresh a stale one once', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const store = memoryStore();
      const time = clock();
      const instances = [1, 2].map(() =>
        partialCache({
          store,
          lock: redisLock(client as unknown as RedisClientLike, { prefix: 'partial-lock:' }),
          ttl: 60_000,
          staleWhileRevalidate: 60_000,
          now: time.now,
        }),
      );
      const counter = { shell: 0 };
      const users = ['A', 'B', 'C', 'D', 'E', 'F'];
      const results = await Promise.all(
        users.map((user, i) =>
          instances[i % 2]!.render(<Page counter={counter} />, { request: request(user) }),
        ),
      );
      const htmls = await Promise.all(results.map(body));
      expect(counter.shell).toBe(1);
      const statuses = results.map((result) => result.headers.get('x-kiln-cache'));
      expect(statuses.filter((status) => status === 'miss')).toHaveLength(1);
      expect(statuses.filter((status) => status === 'partial')).toHaveLength(5);
      htmls.forEach((html, i) => {
        expect(html).toContain(`Hello ${users[i]}`);
      });
      await Promise.all(instances.map((shells) => shells.idle()));

      time.advance(61_000);
      const stale = await Promise.all(
        users.map((user, i) =>
          instances[i % 2]!.render(<Page counter={counter} version="v2" />, {
            request: request(user),
          }),
        ),
      );
      expect(stale.map((result) => result.headers.get('x-kiln-cache'))).toEqual(
        users.map(() => 'stale'),
      );
      await Promise.all(stale.map(body));
      await Promise.all(instances.map((shells) => shells.idle()));
      expect(counter.shell).toBe(2);
      const fresh = await instances[1]!.render(<Page counter={counter} version="v2" />, {
        request: request('G'),
      });
      expect(fresh.headers.get('x-kiln-cache')).toBe('partial');
      expect(await body(fresh)).toContain('Catalog v2');
    } finally {
      await client.close();
    }
  });
});
