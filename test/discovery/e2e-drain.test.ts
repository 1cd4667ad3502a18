/**
 * Issue 15 end to end, through the gateway's public listener: three live
 * services register with the gateway's registry through the real
 * eureka-js-client (leases: heartbeat 1 s, expiry 3 s) while a steady GET
 * stream runs through a `discover: { registry }` pool. One client stops
 * gracefully: it is out of the pool at once and no request fails. One is a
 * child process killed with SIGKILL: its registration stays until its lease
 * expires, never less, and clients see no error meanwhile (the connection
 * failure is retried on another instance, then the target is ejected).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { call, eurekaClient, startService, started, stopped } from '../registry/helpers.js';
import { discoveryGateway, stream } from './e2e-helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const LEASE = { renewal: '1s', expiry: '3s', evictEvery: '100ms' };

describe('15 e2e: instances leave a discovered pool without a failed request', () => {
  it('a graceful stop leaves at once; a SIGKILLed instance is evicted at expiry, never before; no client sees an error', { timeout: 60_000 }, async () => {
    // Self-preservation off: one silent instance of three is below 85 % of renewals and would (rightly) suspend eviction.
    const gw = await discoveryGateway({ registry: { lease: LEASE, selfPreservation: false } });
    cleanups.push(() => gw.close());
    const base = `http://127.0.0.1:${gw.gateway.registryPort}/eureka`;

    const services = await Promise.all(['orders-a', 'orders-c'].map((name) => startService(name)));
    for (const s of services) cleanups.push(() => s.close());
    const clients = services.map((s, i) => eurekaClient({ url: `${base}/apps/`, app: 'orders', instanceId: ['orders-a', 'orders-c'][i]!, port: s.port, heartbeatMs: 1000 }));
    const running = new Set(clients);
    cleanups.push(() => Promise.all([...running].map((c) => stopped(c).catch(() => undefined))));
    for (const c of clients) await started(c);
    const child: ChildProcess = spawn(process.execPath, [fileURLToPath(new URL('../registry/fixtures/eureka-child.cjs', import.meta.url)), `${base}/apps/`, 'ORDERS', 'orders-b', '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.includes('registered'), { timeout: 10_000, message: 'the child to register' });

    // All three answer through the gateway.
    const seen = new Set<string>();
    await waitFor(async () => {
      const r = await fetch(`${gw.url}/orders/x`);
      if (r.status === 200) seen.add(await r.text());
      return seen.size === 3;
    }, { timeout: 5000, interval: 5, message: 'all three instances to answer' });

    const s = stream(`${gw.url}/orders/x`, 2);
    cleanups.push(() => s.stop());
    await waitFor(() => s.answers.length >= 50, { timeout: 10_000, message: 'the stream to run' });

    // Graceful: eureka-js-client's stop() sends DELETE; the pool drops orders-a as the registry answers.
    await stopped(clients[0]!);
    running.delete(clients[0]!);
    const pool = gw.gateway.runtime.upstreams.get('orders')!;
    expect(pool.eligible.map((t) => t.id)).not.toContain(`http://127.0.0.1:${services[0]!.port}`);
    const afterStop = s.answers.length;
    await waitFor(() => s.answers.length >= afterStop + 100, { timeout: 10_000, message: '100 more requests' });
    // Requests that started before the stop may still have been answered by orders-a; none after the first few.
    expect(s.answers.slice(afterStop + 5).filter((a) => a === '200 orders-a')).toEqual([]);
    await services[0]!.close();

    // SIGKILL: no DELETE, heartbeats just stop.
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lease = (await call('GET', `${base}/apps/ORDERS/orders-b`)).json.instance.leaseInfo;
    const expiresAt = lease.lastRenewalTimestamp + 3000;
    await waitFor(
      async () => {
        expect((await call('GET', `${base}/apps/ORDERS/orders-b`)).status).toBe(200);
        return Date.now() >= expiresAt - 150;
      },
      { timeout: 5000, interval: 20, message: 'the lease to near its end' },
    );
    await waitFor(async () => (await call('GET', `${base}/apps/ORDERS/orders-b`)).status === 404, { timeout: 2000, interval: 20, message: 'eviction after expiry' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    const evictedAt = s.answers.length;
    await waitFor(() => s.answers.length >= evictedAt + 50, { timeout: 10_000, message: '50 more requests' });
    await s.stop();

    // Not one client-visible failure through the whole run; the survivor answered at the end.
    expect(s.failures()).toEqual([]);
    expect(s.answers.slice(-20).every((a) => a === '200 orders-c')).toBe(true);
    expect(gw.gateway.registryState()).toMatchObject({ instances: 1, evictions: 1 });
  });
});
