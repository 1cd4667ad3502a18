/**
 * Two registries (two gateways) on one throwaway redis-server: a
 * registration on A is visible on B within a second and fires B's onChange; a
 * heartbeat to B renews a lease A granted; an expired instance is evicted and
 * counted once between them; with Redis killed, writes get 503
 * SY_ERR_REGISTRY_UNAVAILABLE while reads keep the last known set; when Redis
 * comes back (empty), both recover by themselves and the registry is refilled.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { SKIP_NEEDS_LOCAL_REDIS, startRedis, type TestRedis } from '../helpers/redis.js';
import { body, call, listedIds, startTestRegistry, type TestRegistry } from './helpers.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  if (!redis.external) await redis.stop();
});
const open: TestRegistry[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
});

/** pair starts two registries sharing Redis under one fresh key prefix. */
async function pair(overrides: Record<string, unknown> = {}): Promise<[TestRegistry, TestRegistry]> {
  const store = { syncEvery: '200ms', keyPrefix: `{sy-reg-${Math.random().toString(36).slice(2, 8)}}:` };
  const a = await startTestRegistry({ store, ...overrides }, { redisUrl: redis.url });
  const b = await startTestRegistry({ store, ...overrides }, { redisUrl: redis.url });
  open.push(a, b);
  await waitFor(() => a.registry.state().storeHealthy && b.registry.state().storeHealthy, { message: 'both connected' });
  return [a, b];
}

describe('two registries on one Redis', () => {
  it('shows a registration on A on B within a second, fires B.onChange, and lets B renew it', async () => {
    const [a, b] = await pair();
    const heard: string[] = [];
    b.registry.onChange((app) => heard.push(app));
    const t0 = Date.now();
    expect((await call('POST', `${a.base}/apps/ORDERS`, { body: body('ORDERS', 'o1') })).status).toBe(204);
    await waitFor(() => b.registry.instances('ORDERS').length === 1, { timeout: 1000, message: 'B to see o1' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(heard).toContain('ORDERS');
    expect(await listedIds(b.base)).toEqual(['o1']);
    expect((await call('PUT', `${b.base}/apps/ORDERS/o1`)).status).toBe(200); // a heartbeat to any gateway renews
    expect((await call('DELETE', `${b.base}/apps/ORDERS/o1`)).status).toBe(200);
    await waitFor(() => a.registry.instances('ORDERS').length === 0, { timeout: 1000, message: 'A to see the cancel' });
  });

  it('admits exactly maxInstancesPerApp across both gateways', async () => {
    const [a, b] = await pair({ maxInstancesPerApp: 10 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => call('POST', `${(i % 2 ? a : b).base}/apps/CAP`, { body: body('CAP', `c${i}`) })));
    expect(results.filter((r) => r.status === 204)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429)).toHaveLength(20);
    await waitFor(() => a.registry.instances('CAP').length === 10 && b.registry.instances('CAP').length === 10, { message: 'both to hold 10' });
  });

  it('evicts an expired instance once between the two', async () => {
    const [a, b] = await pair({ selfPreservation: false, lease: { renewal: '200ms', expiry: '600ms', evictEvery: '50ms' } });
    await call('POST', `${a.base}/apps/GONE`, { body: body('GONE', 'g1') });
    await waitFor(() => b.registry.instances('GONE').length === 1, { message: 'B to see g1' });
    await waitFor(() => a.registry.instances('GONE').length === 0 && b.registry.instances('GONE').length === 0, { timeout: 3000, message: 'eviction' });
    expect(a.registry.state().evictions + b.registry.state().evictions).toBe(1);
  });

  it('answers 503 to writes and keeps serving reads while Redis is down, then recovers by itself', { timeout: 30_000 }, async (ctx) => {
    if (redis.external) ctx.skip(SKIP_NEEDS_LOCAL_REDIS);
    const [a, b] = await pair({ lease: { renewal: '200ms', expiry: '20s', evictEvery: '100ms' } });
    await call('POST', `${a.base}/apps/KEPT`, { body: body('KEPT', 'k1') });
    await waitFor(() => b.registry.instances('KEPT').length === 1, { message: 'B to see k1' });

    await redis.stop();
    await waitFor(() => !a.registry.state().storeHealthy && !b.registry.state().storeHealthy, { message: 'both to notice' });
    const w = await call('POST', `${a.base}/apps/NEW`, { body: body('NEW', 'n1') });
    expect([w.status, w.json.error.code]).toEqual([503, 'SY_ERR_REGISTRY_UNAVAILABLE']);
    expect((await call('PUT', `${b.base}/apps/KEPT/k1`)).status).toBe(503);
    expect(await listedIds(a.base)).toEqual(['k1']); // reads keep the last known set
    expect(await listedIds(b.base)).toEqual(['k1']);
    expect(b.registry.instances('KEPT')).toHaveLength(1);

    await redis.restart(); // an empty Redis on the same port
    await waitFor(() => a.registry.state().storeHealthy && b.registry.state().storeHealthy, { timeout: 10_000, message: 'both to recover' });
    expect((await call('POST', `${a.base}/apps/NEW`, { body: body('NEW', 'n1') })).status).toBe(204);
    await waitFor(() => b.registry.instances('NEW').length === 1, { timeout: 2000, message: 'B to see n1' });
    // Refilled from the gateways' last known state: each writes back what it knew once it sees the new store epoch (asynchronously, so poll).
    await waitFor(async () => (await call('PUT', `${b.base}/apps/KEPT/k1`)).status === 200, { timeout: 5000, interval: 50, message: 'k1 refilled and renewable on B' });
    expect(await listedIds(b.base)).toEqual(['k1', 'n1']);
  });
});
