import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserSession } from '@kiln/test-utils';
import type { Page as BrowserPage } from 'playwright-core';
import { expect } from 'vitest';
import { CHROME_UA } from './http';

/** Pixels of a 1000×900 screenshot allowed to differ by anti-aliasing (0.002 %). */
export const MAX_EDGE_PIXELS = 20;

/** The viewport of the screenshot comparisons. */
export const VIEWPORT = { width: 1000, height: 900 };

/** A full-page PNG of `page` once its fonts are ready, with `[data-live]` parts masked. */
export async function screenshot(page: BrowserPage): Promise<Buffer> {
  await page.evaluate(() => document.fonts.ready);
  return page.screenshot({
    fullPage: true,
    animations: 'disabled',
    caret: 'hide',
    mask: [page.locator('[data-live]')],
  });
}

/**
 * How many pixels differ between two PNG screenshots of the same size (decoded by Chromium in
 * `page`; -1 when the sizes differ). When any differ, both images are written to
 * `test-results/<name>/` for a look.
 */
export async function differentPixels(
  page: BrowserPage,
  name: string,
  before: Buffer,
  after: Buffer,
): Promise<number> {
  const differ = await page.evaluate(
    async ([first, second]) => {
      const pixels = async (base64: string) => {
        const image = new Image();
        image.src = `data:image/png;base64,${base64}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const g = canvas.getContext('2d')!;
        g.drawImage(image, 0, 0);
        return g.getImageData(0, 0, image.width, image.height);
      };
      const [x, y] = [await pixels(first), await pixels(second)];
      if (x.width !== y.width || x.height !== y.height) return -1;
      let count = 0;
      for (let i = 0; i < x.data.length; i += 4) {
        if (x.data.slice(i, i + 4).some((v, k) => v !== y.data[i + k])) count++;
      }
      return count;
    },
    [before.toString('base64'), after.toString('base64')] as const,
  );
  if (differ !== 0) {
    const dir = join('test-results', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'without-js.png'), before);
    await writeFile(join(dir, 'hydrated.png'), after);
  }
  return differ;
}

/**
 * Loads `url` (a streamed page whose staff picks stream in late) in a tab without JavaScript:
 * its `<noscript>` refresh must bring the same page rendered complete (`?noscript=1`), with the
 * picks and without their fallback. `check` looks at that page (styles, say) before its
 * screenshot is taken and returned.
 */
export async function screenshotWithoutJavaScript(
  browser: BrowserSession,
  url: string,
  check: (page: BrowserPage) => Promise<void>,
): Promise<Buffer> {
  const context = await browser.context({
    javaScriptEnabled: false,
    userAgent: CHROME_UA,
    viewport: VIEWPORT,
  });
  try {
    const page = await context.newPage();
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    await page.waitForURL(`${url}/?noscript=1`, { waitUntil: 'load' });
    expect(await page.locator('[data-testid="picks"] li').count()).toBe(3);
    expect(await page.locator('[data-testid="picks-loading"]').count()).toBe(0);
    await check(page);
    return await screenshot(page);
  } finally {
    await context.close();
  }
}

/**
 * Expects two screenshots of one page (without JavaScript, and hydrated) to look the same:
 * Chromium may anti-alias a few edge pixels differently from one paint to the next, while an
 * unstyled or re-laid-out page differs in tens of thousands.
 */
export async function expectSameLook(
  page: BrowserPage,
  name: string,
  withoutJavaScript: Buffer,
  hydrated: Buffer,
): Promise<void> {
  const differ = await differentPixels(page, name, withoutJavaScript, hydrated);
  expect(differ, 'screenshots differ (see test-results/)').toBeGreaterThanOrEqual(0);
  expect(differ, 'screenshots differ (see test-results/)').toBeLessThanOrEqual(MAX_EDGE_PIXELS);
}
