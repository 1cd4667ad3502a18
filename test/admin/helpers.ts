/**
 * Helpers of the dashboard tests: a headless Chromium (playwright-core on the
 * system's /usr/bin/chromium), a page opened in a fresh context that records
 * CSP violations and script errors, and DOM polls on data-value attributes.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium';
/** WAIT bounds every DOM poll: health checks run every 50ms and the page refreshes every second. */
export const WAIT = 10_000;

/** launchChromium starts headless Chromium, or fails saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is required for the dashboard tests but ${CHROMIUM} does not exist: install it with \`apt-get install chromium\` (or point SWITCHYARD_CHROMIUM at a Chromium binary).`);
  }
  // Root cannot use Chromium's sandbox (CI containers run as root).
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

/** openPage opens the dashboard in a fresh context (its own sessionStorage) and records CSP violations and page errors. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
  const context = await browser.newContext({ colorScheme: 'light' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(url);
  return { page, context, problems };
}

/** dataValue reads a numeric data-value attribute. */
export async function dataValue(page: Page, selector: string): Promise<number> {
  return Number(await page.locator(selector).getAttribute('data-value'));
}

/** waitForValue polls the DOM until the element's data-value compares as asked (no eval: the page's CSP forbids it). */
export async function waitForValue(page: Page, selector: string, op: '===' | '>', n: number): Promise<void> {
  await page.waitForFunction(
    ([sel, o, want]) => {
      const raw = document.querySelector(sel)?.getAttribute('data-value');
      if (raw === null || raw === undefined || raw === '') return false;
      const v = Number(raw);
      return o === '===' ? v === want : v > want;
    },
    [selector, op, n] as const,
    { timeout: WAIT },
  );
}
