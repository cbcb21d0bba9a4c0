import { describe, expect, test } from 'vitest';
import { KilnError } from '../shared/errors';
import { assertNotInBrowser } from './server-only';

const browser = {
  window: {},
  document: {},
  navigator: {
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  },
};

describe('the server entry in a browser', () => {
  test('a browser (a window, a document, no test runner) gets a KilnError naming the client entry', () => {
    let thrown: unknown;
    try {
      assertNotInBrowser(browser);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KilnError);
    expect(thrown).toMatchObject({ code: 'KILN_SERVER_ENTRY_IN_BROWSER' });
    expect((thrown as Error).message).toMatch(/^\[kiln\/core\] .*@kiln\/core\/client/);
  });

  test('Node (no window), jsdom, happy-dom and a test runner pass', () => {
    expect(() => assertNotInBrowser({})).not.toThrow();
    expect(() => assertNotInBrowser({ process: { env: {} } })).not.toThrow();
    for (const userAgent of [
      'Mozilla/5.0 (linux) AppleWebKit/537.36 jsdom/26.1.0',
      'HappyDOM/1.0',
    ]) {
      expect(() => assertNotInBrowser({ ...browser, navigator: { userAgent } })).not.toThrow();
    }
    for (const env of [{ VITEST: 'true' }, { JEST_WORKER_ID: '1' }, { NODE_ENV: 'test' }]) {
      expect(() => assertNotInBrowser({ ...browser, process: { env } })).not.toThrow();
    }
    expect(() =>
      assertNotInBrowser({ ...browser, process: { env: { NODE_ENV: 'production' } } }),
    ).toThrow(KilnError);
  });
});
