/**
 * The registry's and the discovery providers' metrics as /metrics on the
 * admin port shows them, after real registrations, renewals, cancellations,
 * an eviction, a refusal and self-preservation; and the cap on app label
 * values (limits.maxMetricApps) that keeps a client registering many names
 * from growing the series without bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor, type TestGateway } from '../../src/testing/index.js';
import { AppLabels, OTHER_APP } from '../../src/telemetry/registry-metrics.js';
import { discoveryGateway, metricValue, scrape, upstreamsDoc } from '../discovery/e2e-helpers.js';
import { body, call, heartbeater } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway(registry: Record<string, unknown> = {}): Promise<{ gw: TestGateway; base: string }> {
  const gw = await discoveryGateway({ registry });
  cleanups.push(() => gw.close());
  return { gw, base: `http://127.0.0.1:${gw.gateway.registryPort}/eureka` };
}

describe('15: registry metrics', () => {
  it('counts registrations, renewals, cancellations, evictions and refusals, and gauges instances by app and status', { timeout: 20_000 }, async () => {
    // Self-preservation off: the eviction below must happen.
    const { gw, base } = await gateway({ selfPreservation: false });
    for (const [i, id] of ['o1', 'o2', 'o3'].entries()) expect((await call('POST', `${base}/apps/ORDERS`, { body: body('ORDERS', id, { port: { $: 9001 + i, '@enabled': true } }) })).status).toBe(204);
    expect((await call('PUT', `${base}/apps/ORDERS/o3/status?value=OUT_OF_SERVICE`)).status).toBe(200);
    const hb = heartbeater(base, 'ORDERS', 'o1', 100);
    cleanups.push(() => hb.stop());
    expect((await call('DELETE', `${base}/apps/ORDERS/o2`)).status).toBe(200);
    expect((await call('POST', `${base}/apps/ORDERS`, { body: body('ORDERS', 'evil', { ipAddr: '192.0.2.1' }) })).status).toBe(400);

    let text = await waitFor(async () => {
      const t = await scrape(gw);
      return (metricValue(t, 'switchyard_registry_renewals_total') ?? 0) >= 3 ? t : undefined;
    }, { message: 'three renewals counted' });
    expect(metricValue(text, 'switchyard_registry_registrations_total', { app: 'ORDERS' })).toBe(3);
    expect(metricValue(text, 'switchyard_registry_cancellations_total', { app: 'ORDERS' })).toBe(1);
    expect(metricValue(text, 'switchyard_registry_refused_total', { reason: 'target' })).toBe(1);
    expect(metricValue(text, 'switchyard_registry_instances', { app: 'ORDERS', status: 'UP' })).toBe(1);
    expect(metricValue(text, 'switchyard_registry_instances', { app: 'ORDERS', status: 'OUT_OF_SERVICE' })).toBe(1);
    expect(metricValue(text, 'switchyard_registry_self_preservation_active')).toBe(0);
    expect(metricValue(text, 'switchyard_registry_store_errors_total')).toBe(0);
    // The discovered pool: its provider's set (o1 up, o3 draining) and a recent good answer.
    expect(metricValue(text, 'switchyard_discovery_instances', { upstream: 'orders', provider: 'registry' })).toBe(2);
    expect(metricValue(text, 'switchyard_discovery_errors_total', { upstream: 'orders', provider: 'registry' })).toBe(0);
    const age = metricValue(text, 'switchyard_discovery_last_success_age_seconds', { upstream: 'orders', provider: 'registry' })!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(10);

    // o3 sends no heartbeat: evicted after expiry (1.5 s); o1 keeps renewing and stays.
    text = await waitFor(async () => {
      const t = await scrape(gw);
      return metricValue(t, 'switchyard_registry_evictions_total', { app: 'ORDERS' }) === 1 ? t : undefined;
    }, { timeout: 8000, message: 'the eviction counted' });
    expect(metricValue(text, 'switchyard_registry_instances', { app: 'ORDERS', status: 'UP' })).toBe(1);
    expect(metricValue(text, 'switchyard_registry_instances', { app: 'ORDERS', status: 'OUT_OF_SERVICE' })).toBeUndefined();
    expect(metricValue(text, 'switchyard_discovery_instances', { upstream: 'orders', provider: 'registry' })).toBe(1);
  });

  it('shows self-preservation in the gauge and in /upstreams while 3 of 4 are silent, and clears both when renewals return', { timeout: 30_000 }, async () => {
    const { gw, base } = await gateway();
    const beats = [];
    for (let i = 0; i < 4; i++) {
      expect((await call('POST', `${base}/apps/ORDERS`, { body: body('ORDERS', `f${i}`) })).status).toBe(204);
      const hb = heartbeater(base, 'ORDERS', `f${i}`, 100);
      beats.push(hb);
      cleanups.push(() => hb.stop());
    }
    const since = Date.now();
    await waitFor(() => { const sp = gw.gateway.registryState()!.selfPreservation; return sp.at > since + 1200 && !sp.active; }, { timeout: 10_000, message: 'a full window of renewals' });
    for (const hb of beats.slice(1)) hb.stop();
    const silentFrom = Date.now();
    // A reading whose whole window (up to 7 buckets of 1/6 s) follows the silence: before it, the rate crosses the threshold gradually and may flap.
    await waitFor(async () => metricValue(await scrape(gw), 'switchyard_registry_self_preservation_active') === 1 && gw.gateway.registryState()!.selfPreservation.at > silentFrom + 1200, { timeout: 10_000, message: 'the gauge to show self-preservation' });
    const doc = await upstreamsDoc(gw);
    expect(doc.registry).toMatchObject({ store: 'memory', storeHealthy: true, instances: 4, apps: { ORDERS: { UP: 4 } }, selfPreservation: { enabled: true, active: true, threshold: 0.85 }, evictions: 0 });
    expect(metricValue(await scrape(gw), 'switchyard_registry_evictions_total', { app: 'ORDERS' })).toBeUndefined();

    for (const hb of beats) hb.start();
    await waitFor(async () => metricValue(await scrape(gw), 'switchyard_registry_self_preservation_active') === 0, { timeout: 10_000, message: 'the gauge to clear' });
    expect((await upstreamsDoc(gw)).registry).toMatchObject({ instances: 4, selfPreservation: { active: false }, evictions: 0 });
  });

  it(`caps app label values at limits.maxMetricApps: later applications are summed under app="${OTHER_APP}"`, async () => {
    const { gw, base } = await gateway({ limits: { maxMetricApps: 2 } });
    for (const app of ['ORDERS', 'USERS', 'HOSTILE1', 'HOSTILE2', 'HOSTILE3']) expect((await call('POST', `${base}/apps/${app}`, { body: body(app, 'i1') })).status).toBe(204);
    const text = await scrape(gw);
    expect(metricValue(text, 'switchyard_registry_registrations_total', { app: 'ORDERS' })).toBe(1);
    expect(metricValue(text, 'switchyard_registry_registrations_total', { app: 'USERS' })).toBe(1);
    expect(metricValue(text, 'switchyard_registry_registrations_total', { app: OTHER_APP })).toBe(3);
    expect(metricValue(text, 'switchyard_registry_instances', { app: OTHER_APP, status: 'UP' })).toBe(3);
    expect(text).not.toMatch(/app="HOSTILE/);
    // Every registry series together: two named apps plus _other, whatever the clients send.
    const apps = new Set([...text.matchAll(/^switchyard_registry_\w+\{[^}]*app="([^"]*)"/gm)].map((m) => m[1]));
    expect([...apps].sort()).toEqual(['ORDERS', 'USERS', OTHER_APP].sort());
  });

  it('AppLabels keeps the first names it sees and shares the rest', () => {
    const labels = new AppLabels(2);
    expect(['A', 'B', 'C', 'A', 'D', 'B'].map((a) => labels.of(a))).toEqual(['A', 'B', OTHER_APP, 'A', OTHER_APP, 'B']);
  });
});
