/**
 * Issue 15 end to end: self-preservation seen from the outside. Four live
 * services registered through the real eureka-js-client; three stop
 * heartbeating at once (their timers cleared: what a partition between them
 * and the registry looks like). Nothing is evicted however long their leases
 * are overdue, the pool keeps serving all four through the public listener,
 * and the state shows in GET /upstreams (`registry`) and in /metrics; when
 * the heartbeats return, both read normal again and nothing was lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { eurekaClient, startService, started, stopped, type EurekaClient } from '../registry/helpers.js';
import { discoveryGateway, metricValue, scrape, upstreamsDoc } from './e2e-helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The client's heartbeat timer (eureka-js-client keeps it in `heartbeat`). */
type Beating = EurekaClient & { heartbeat: NodeJS.Timeout; startHeartbeats(): void };

describe('15 e2e: self-preservation', () => {
  it('evicts nothing while 3 of 4 clients are silent, shows it in /upstreams and /metrics, and returns to normal with their heartbeats', { timeout: 60_000 }, async () => {
    const gw = await discoveryGateway();
    cleanups.push(() => gw.close());
    const url = `http://127.0.0.1:${gw.gateway.registryPort}/eureka/apps/`;
    const names = ['o1', 'o2', 'o3', 'o4'];
    const clients: Beating[] = [];
    for (const name of names) {
      const svc = await startService(name);
      cleanups.push(() => svc.close());
      const c = eurekaClient({ url, app: 'orders', instanceId: name, port: svc.port }) as Beating;
      await started(c);
      cleanups.push(() => stopped(c).catch(() => undefined));
      clients.push(c);
    }
    // A full window (1 s) of everyone's renewals before the partition.
    const since = Date.now();
    await waitFor(() => { const sp = gw.gateway.registryState()!.selfPreservation; return sp.at > since + 1200 && !sp.active; }, { timeout: 10_000, message: 'a full window of renewals' });

    for (const c of clients.slice(1)) clearInterval(c.heartbeat);
    const silentFrom = Date.now();
    // Until the window (1 s, counted in 1/6 s buckets: up to 7 of them) holds only renewals from after the silence, the
    // rate falls gradually through the threshold and the reading may flap across it (Eureka's does too): wait for a
    // reading whose whole window is after the silence, then self-preservation must hold without a gap.
    await waitFor(async () => (await upstreamsDoc(gw)).registry.selfPreservation.active && gw.gateway.registryState()!.selfPreservation.at > silentFrom + 1200, { timeout: 10_000, message: '/upstreams to show self-preservation' });
    expect(metricValue(await scrape(gw), 'switchyard_registry_self_preservation_active')).toBe(1);

    // Twice the expiry (1.5 s) with eviction rounds every 100 ms: all four registered, all four answer.
    await waitFor(async () => {
      const doc = await upstreamsDoc(gw);
      expect(doc.registry).toMatchObject({ instances: 4, evictions: 0, selfPreservation: { active: true } });
      return Date.now() > silentFrom + 3000;
    }, { timeout: 10_000, interval: 100, message: 'twice the expiry' });
    const seen = new Set<string>();
    await waitFor(async () => {
      const r = await fetch(`${gw.url}/orders/x`);
      expect(r.status).toBe(200);
      seen.add(await r.text());
      return seen.size === 4;
    }, { timeout: 5000, interval: 1, message: 'all four to answer' });
    const doc = await upstreamsDoc(gw);
    expect(doc.registry.selfPreservation.renewalsPerMinute).toBeLessThan(doc.registry.selfPreservation.threshold * doc.registry.selfPreservation.expectedPerMinute);
    expect(doc.upstreams.find((u: { name: string }) => u.name === 'orders').targets).toHaveLength(4);

    // The partition heals: the same leases are renewed (nothing had been dropped) and the state clears.
    for (const c of clients.slice(1)) c.startHeartbeats();
    await waitFor(async () => metricValue(await scrape(gw), 'switchyard_registry_self_preservation_active') === 0, { timeout: 10_000, message: 'the gauge to clear' });
    const text = await scrape(gw);
    expect(metricValue(text, 'switchyard_registry_instances', { app: 'ORDERS', status: 'UP' })).toBe(4);
    expect(metricValue(text, 'switchyard_registry_evictions_total', { app: 'ORDERS' })).toBeUndefined();
    // Re-registrations would show here: the clients re-register only after a 404, and none was needed.
    expect(metricValue(text, 'switchyard_registry_registrations_total', { app: 'ORDERS' })).toBe(4);
    expect((await upstreamsDoc(gw)).registry).toMatchObject({ instances: 4, evictions: 0, selfPreservation: { active: false } });
  });
});
