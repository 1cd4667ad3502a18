/**
 * Issue 15 end to end: two whole gateways on one throwaway redis-server
 * (gateway.yaml `redis.url`), each with its registry and a `discover:
 * { registry }` pool. A service registered through the real eureka-js-client
 * on gateway A is routable through gateway B's public listener within a
 * second. With Redis killed mid-run, B keeps routing to the last known set
 * with no failed request and registrations get a clear 503; once Redis is
 * back (empty), both recover by themselves: a new registration on B is
 * routable on A, and the first service is still there.
 * (test/registry/shared-redis.test.ts covers the registries alone.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type TestGateway } from '../../src/testing/index.js';
import { SKIP_NEEDS_LOCAL_REDIS, startRedis, type TestRedis } from '../helpers/redis.js';
import { body, call, eurekaClient, startService, started, stopped } from '../registry/helpers.js';
import { discoveryGateway, metricValue, scrape, stream, upstreamsDoc } from './e2e-helpers.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  if (!redis.external) await redis.stop();
});
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('15 e2e: two gateways sharing a registry through Redis', () => {
  it('routes on B what registered on A within 1 s, rides out a Redis outage on the last known set, and recovers by itself', { timeout: 60_000 }, async (ctx) => {
    if (redis.external) ctx.skip(SKIP_NEEDS_LOCAL_REDIS);
    const store = { syncEvery: '200ms', keyPrefix: `{sy-e2e-${Math.random().toString(36).slice(2, 8)}}:` };
    // Long leases: the outage must not be mistaken for dead instances.
    const registry = { store, lease: { renewal: '200ms', expiry: '20s', evictEvery: '100ms' } };
    const gws: TestGateway[] = [];
    for (let i = 0; i < 2; i++) {
      const gw = await discoveryGateway({ registry, gateway: { redis: { url: redis.url } } });
      cleanups.push(() => gw.close());
      gws.push(gw);
    }
    const [a, b] = gws as [TestGateway, TestGateway];
    const registryOf = (gw: TestGateway) => `http://127.0.0.1:${gw.gateway.registryPort}/eureka`;
    await waitFor(() => a.gateway.registryState()!.storeHealthy && b.gateway.registryState()!.storeHealthy, { message: 'both registries on Redis' });

    const svc = await startService('orders-1');
    cleanups.push(() => svc.close());
    const client = eurekaClient({ url: `${registryOf(a)}/apps/`, app: 'orders', instanceId: 'orders-1', port: svc.port });
    const t0 = Date.now();
    await started(client);
    cleanups.push(() => stopped(client).catch(() => undefined));
    await waitFor(async () => {
      const r = await fetch(`${b.url}/orders/x`);
      return r.status === 200 && (await r.text()) === 'orders-1';
    }, { timeout: 1000, interval: 10, message: 'B to route to what registered on A' });
    expect(Date.now() - t0).toBeLessThan(1000);

    const s = stream(`${b.url}/orders/x`, 5);
    cleanups.push(() => s.stop());
    await redis.stop();
    await waitFor(async () => (await upstreamsDoc(b)).registry.storeHealthy === false, { timeout: 10_000, message: 'B to notice Redis is gone' });
    const refused = await call('POST', `${registryOf(a)}/apps/ORDERS`, { body: body('ORDERS', 'orders-2', { port: { $: svc.port + 1, '@enabled': true } }) });
    expect([refused.status, refused.json.error.code]).toEqual([503, 'SY_ERR_REGISTRY_UNAVAILABLE']);
    expect(metricValue(await scrape(a), 'switchyard_registry_store_errors_total')).toBeGreaterThan(0);
    const during = s.answers.length;
    await waitFor(() => s.answers.length >= during + 50, { timeout: 10_000, message: '50 requests while Redis is down' });

    await redis.restart(); // empty, on the same port
    await waitFor(() => a.gateway.registryState()!.storeHealthy && b.gateway.registryState()!.storeHealthy, { timeout: 15_000, message: 'both to reconnect' });
    const svc2 = await startService('orders-2');
    cleanups.push(() => svc2.close());
    await waitFor(async () => (await call('POST', `${registryOf(b)}/apps/ORDERS`, { body: body('ORDERS', 'orders-2', { port: { $: svc2.port, '@enabled': true } }) })).status === 204, { timeout: 5000, interval: 50, message: 'a registration on B to succeed' });
    const seen = new Set<string>();
    await waitFor(async () => {
      const r = await fetch(`${a.url}/orders/x`);
      if (r.status === 200) seen.add(await r.text());
      return seen.size === 2;
    }, { timeout: 5000, interval: 5, message: 'A to route to both orders-1 and orders-2' });
    await s.stop();
    expect(s.failures()).toEqual([]);
    // Through the outage B served orders-1 alone (its last known set); orders-2 joined only after recovery.
    expect(s.answers.slice(0, during + 50).every((x) => x === '200 orders-1')).toBe(true);
    expect(s.answers.filter((x) => x !== '200 orders-1' && x !== '200 orders-2')).toEqual([]);
  });
});
