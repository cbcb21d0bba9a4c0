import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';

/** The path of the system Chromium, or an error that says how to install it. */
export function findChromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const path = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // try the next name
    }
  }
  throw new Error(
    'No Chromium found on PATH. Install it with `apt-get install -y chromium` ' +
      '(scripts/setup.sh does this) or set CHROMIUM_PATH.',
  );
}

export interface BrowserSession {
  browser: Browser;
  context(options?: Parameters<Browser['newContext']>[0]): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Launches a headless Chromium with the flags this machine needs (no sandbox as root, no background networking). */
export async function launchChromium(): Promise<BrowserSession> {
  // Loaded here, not at the top: playwright-core takes about 0.7 s of CPU to import, and most
  // files that import this package (each a process of its own) never launch a browser.
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'kiln-chromium-'));
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      '--font-render-hinting=none',
    ],
  });
  return {
    browser,
    context: (options) => browser.newContext(options),
    async close() {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
