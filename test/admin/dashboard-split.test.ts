/**
 * The dashboard shows a route's canary split: one row per leg under the
 * route, with its share of the cohorts, its overrides, and live request and
 * 5xx rates (headless Chromium against a real gateway and upstreams).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openPage, waitForValue, WAIT } from './helpers.js';
import { echoHandler, startGateway, startUpstream, type TestGateway, type TestUpstream, type UpstreamHandler } from '../../src/testing/index.js';
import { bucketOf } from '../../src/proxy/split-plan.js';

/** failing answers 500 to everything but its health checks. */
const failing: UpstreamHandler = (req, res, body, self) => (req.url === '/healthz' ? echoHandler(req, res, body, self) : res.writeHead(500).end('boom'));

describe('dashboard: canary split', () => {
  let browser: Browser;
  let v1: TestUpstream, v2: TestUpstream;
  let gw: TestGateway;
  let page: Page;
  let context: BrowserContext;
  let problems: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2', failing)]);
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'orders.yaml': {
          upstreams: { 'orders-v1': { targets: [{ url: v1.url }] }, 'orders-v2': { targets: [{ url: v2.url }] } },
          routes: [
            {
              id: 'orders',
              match: { path: '/api/orders/*' },
              upstream: 'orders-v1',
              split: { by: 'header:x-user', to: [{ upstream: 'orders-v2', weight: 30 }, { upstream: 'orders-v2', when: { headers: { 'x-canary': '1' } } }] },
            },
          ],
        },
      },
    });
    ({ page, context, problems } = await openPage(browser, gw.adminUrl + '/'));
    await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gw?.close();
    await Promise.all([v1?.close(), v2?.close()]);
  });

  it('lists the legs under the route, with their share and overrides, and their live request and 5xx rates', async () => {
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    for (const u of users) await (await request(`${gw.url}/api/orders/1`, { headers: { 'x-user': u } })).body.dump();
    const canary = users.filter((u) => bucketOf('orders', u) < 30).length;
    const leg = (name: string) => `#routes tr.split-leg[data-split-route="orders"][data-leg="${name}"]`;
    await waitForValue(page, `${leg('orders-v2')} [data-field="requests"]`, '===', canary);
    await waitForValue(page, `${leg('orders-v1')} [data-field="requests"]`, '===', users.length - canary);
    await waitForValue(page, `${leg('orders-v2')} [data-field="errors"]`, '===', canary);
    await waitForValue(page, `${leg('orders-v2')} [data-field="eps"]`, '>', 0);
    await waitForValue(page, `${leg('orders-v1')} [data-field="rps"]`, '>', 0);
    expect(await page.locator(`${leg('orders-v1')} [data-field="errors"]`).getAttribute('data-value')).toBe('0');
    expect(await page.locator(`${leg('orders-v2')} [data-field="split"]`).textContent()).toBe('by header:x-user \u00b7 30% of cohorts \u00b7 override header x-canary: 1');
    expect(await page.locator(`${leg('orders-v1')} [data-field="split"]`).textContent()).toBe('by header:x-user \u00b7 70% of cohorts \u00b7 primary, fallback primary');
    expect(await page.locator(leg('orders-v1')).getAttribute('data-primary')).toBe('true');
    // The legs follow their route's row.
    expect(await page.locator('#routes tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-route') ?? tr.getAttribute('data-leg')))).toEqual(['orders', 'orders-v1', 'orders-v2']);
    expect(problems).toEqual([]);
  }, 60_000);
});
