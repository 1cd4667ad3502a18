/**
 * The dashboard's shadow traffic panel in headless Chromium: hidden while no
 * route mirrors; with a mirror it shows the shadow pool, the sample share and
 * the live counters (sent, over the body limit, shadow 5xx), built from text
 * nodes under the page's CSP.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { dataValue, launchChromium, openPage, waitForValue, WAIT } from './helpers.js';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';

// Chromium, a gateway and two upstreams on a machine other test runs share: allow for load.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

describe('dashboard: shadow traffic', () => {
  let browser: Browser;
  let primary: TestUpstream, shadow: TestUpstream;
  let gw: TestGateway;
  let page: Page;
  let context: BrowserContext;
  let problems: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    primary = await startUpstream('primary');
    shadow = await startUpstream('shadow', (_req, res) => res.writeHead(503).end('no'));
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: { orders: { targets: [{ url: primary.url }] }, 'orders-shadow': { targets: [{ url: shadow.url }] } },
          routes: [
            { id: 'orders', match: { path: '/orders/*' }, upstream: 'orders', mirror: { upstream: 'orders-shadow', percent: 100, bodyLimit: 10, methods: ['GET', 'POST'] } },
            { id: 'plain', match: { path: '/plain/*' }, upstream: 'orders' },
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
    await Promise.all([primary?.close(), shadow?.close()]);
  });

  it('shows each mirroring route with its shadow pool, share and counters', async () => {
    const row = '#mirrors tr[data-route="orders"]';
    await page.locator(row).waitFor({ timeout: WAIT });
    expect(await page.locator('#mirrors').isVisible()).toBe(true);
    expect(await page.locator('#mirrors tbody tr').count()).toBe(1);
    expect(await page.locator(row).getAttribute('data-upstream')).toBe('orders-shadow');
    expect(await page.locator(`${row} [data-field="percent"]`).textContent()).toBe('100%');

    const m = gw.gateway.runtime.routes.find((r) => r.id === 'orders')!.mirror!;
    for (let i = 0; i < 3; i++) await request(`${gw.url}/orders/${i}`).then((r) => r.body.dump());
    await request(`${gw.url}/orders/big`, { method: 'POST', body: 'x'.repeat(100) }).then((r) => r.body.dump());
    await waitFor(() => m.stats.shadow5xx === 3, { message: 'three shadow answers' });

    await waitForValue(page, `${row} [data-field="sent"]`, '===', 3);
    await waitForValue(page, `${row} [data-field="shadow-5xx"]`, '===', 3);
    expect(await dataValue(page, `${row} [data-field="over-limit"]`)).toBe(1);
    expect(await dataValue(page, `${row} [data-field="dropped"]`)).toBe(0);
    expect(await dataValue(page, `${row} [data-field="errors"]`)).toBe(0);
    expect(problems).toEqual([]);
  });

  it('lists the mirror in /routes', async () => {
    const res = await request(gw.adminUrl + '/routes');
    const body = (await res.body.json()) as { routes: Array<{ id: string; mirror: unknown }> };
    expect(body.routes.find((r) => r.id === 'plain')!.mirror).toBeNull();
    expect(body.routes.find((r) => r.id === 'orders')!.mirror).toMatchObject({
      upstream: 'orders-shadow',
      percent: 100,
      bodyLimit: 10,
      methods: ['GET', 'POST'],
      timeoutMs: 5000,
      counts: { sent: 3, overLimit: 1, shadow5xx: 3, dropped: 0 },
    });
  });
});
