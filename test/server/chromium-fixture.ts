import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Where the Debian "chromium" package puts the browser the dashboard tests drive. */
export const CHROMIUM = '/usr/bin/chromium';
/** Where the dashboard tests leave their screenshots. */
export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
/** Skip the browser tests when Chromium is missing, except in CI (where launching it fails them). */
export const skipBrowser = !existsSync(CHROMIUM) && process.env.CI !== 'true';
if (skipBrowser) {
  console.warn(
    `dashboard browser tests skipped: no Chromium at ${CHROMIUM} (install the Debian "chromium" package)`,
  );
}

/** Polls what the page shows until it matches, with room for a slow, busy machine. */
export function eventually<T>(read: () => Promise<T>): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout: 10_000, interval: 50 });
}

/** Headless Chromium, as every dashboard browser test launches it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A new page whose script errors and console errors are collected (a test expects none). */
export async function watchedPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  return { page, problems };
}
