/**
 * Issue 15 on the dashboard, in a real headless Chromium: every target row
 * says where the target came from (registry lease age, DNS TTL, or static),
 * and a discovered pool shows its provider (what it watches, instances, last
 * answer, errors), for route-file pools and automatic routes alike. The pool
 * fills and empties on the page as instances register and leave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage, WAIT } from './helpers.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { startDnsmasq, type TestDnsmasq } from '../helpers/dnsmasq.js';
import { body, call, FAST } from '../registry/helpers.js';

let browser: Browser;
let gw: TestGateway;
let fixed: TestUpstream;
let orders: TestUpstream;
let dns: TestDnsmasq;

beforeAll(async () => {
  browser = await launchChromium();
  fixed = await startUpstream('fixed');
  orders = await startUpstream('orders-1');
  dns = await startDnsmasq({ hosts: ['127.0.0.1 catalog.test'], ttl: 30 });
  gw = await startGateway({
    gateway: {
      discovery: {
        registry: { ...FAST, lease: { renewal: '30s', expiry: '90s', evictEvery: '60s' }, selfPreservation: false },
        dns: { servers: [dns.server], timeout: '500ms', tries: 2 },
        autoRoutes: { prefix: '/services' },
      },
    },
    routeFiles: {
      'r.yaml': {
        routes: [
          { id: 'fixed', match: { path: '/fixed/*' }, upstream: 'fixed' },
          { id: 'orders', match: { path: '/orders/*' }, upstream: 'orders' },
          { id: 'catalog', match: { path: '/catalog/*' }, upstream: 'catalog' },
        ],
        upstreams: {
          fixed: { targets: [{ url: fixed.url }] },
          orders: { discover: { registry: 'ORDERS' } },
          catalog: { discover: { dns: { name: 'catalog.test', port: fixed.port, family: 'ipv4' } } },
        },
      },
    },
  });
}, 60000);

afterAll(async () => {
  await gw?.close();
  await browser?.close();
  await dns?.close();
  await fixed?.close();
  await orders?.close();
});

describe('15: the dashboard shows where targets come from', () => {
  it('shows the Source column and the provider of each discovered pool; the pool fills and empties live', async () => {
    const { page, context, problems } = await openPage(browser, gw.adminUrl + '/');
    try {
      // Before any registration: the discovered pool says what it watches, and that it has found nothing yet.
      const ordersPool = page.locator('section[data-upstream="orders"]');
      await ordersPool.locator('[data-field="discovery"]').waitFor({ timeout: WAIT });
      expect(await ordersPool.locator('[data-field="discovery"]').textContent()).toMatch(/^discovered from registry ORDERS · 0 instances · last answer .+ · 0 errors$/);
      expect(await ordersPool.locator('td.empty').textContent()).toBe('no targets discovered yet');

      // A configured target is static; it has no provider line.
      const fixedRow = page.locator(`section[data-upstream="fixed"] tr[data-target="${fixed.url}"]`);
      await fixedRow.waitFor({ timeout: WAIT });
      expect(await fixedRow.locator('[data-field="source"]').textContent()).toBe('static');
      expect(await page.locator('section[data-upstream="fixed"] [data-field="discovery"]').count()).toBe(0);

      // A DNS target shows its name and TTL.
      const catalogRow = page.locator(`section[data-upstream="catalog"] tr[data-target="${fixed.url}"]`);
      await catalogRow.waitFor({ timeout: WAIT });
      expect(await catalogRow.locator('[data-field="source"]').textContent()).toMatch(/catalog\.test.*TTL \d+s/);
      expect(await page.locator('section[data-upstream="catalog"] [data-field="discovery"]').getAttribute('data-kind')).toBe('dns');

      // A registration fills the route-file pool and creates the automatic one; both show the lease age.
      const base = `http://127.0.0.1:${gw.gateway.registryPort}/eureka`;
      expect((await call('POST', `${base}/apps/ORDERS`, { body: body('ORDERS', 'o-1', { port: { $: orders.port, '@enabled': true } }) })).status).toBe(204);
      for (const pool of ['orders', 'auto:ORDERS']) {
        const row = page.locator(`section[data-upstream="${pool}"] tr[data-target="${orders.url}"]`);
        await row.waitFor({ timeout: WAIT });
        expect(await row.locator('[data-field="source"]').textContent()).toMatch(/^registry ORDERS o-1, lease \d+s$/);
        await page.locator(`section[data-upstream="${pool}"] [data-field="discovery"]`).filter({ hasText: '1 instance ·' }).waitFor({ timeout: WAIT });
      }

      // It leaves: the route-file pool empties, the automatic pool goes with its route.
      expect((await call('DELETE', `${base}/apps/ORDERS/o-1`)).status).toBe(200);
      await ordersPool.locator('td.empty').waitFor({ timeout: WAIT });
      await page.locator('section[data-upstream="auto:ORDERS"]').waitFor({ state: 'detached', timeout: WAIT });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60000);
});
