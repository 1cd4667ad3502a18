/**
 * The real npm eureka-js-client against the registry, over real sockets: a
 * live node:http service registers and is listed within a second; the
 * client's graceful stop removes it at once; a client killed with SIGKILL
 * (its heartbeats just stop) is evicted once its lease expires, never before;
 * credentials in the service URL (http://svc:pw@host/eureka/) authenticate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { call, eurekaClient, listedIds, startService, startTestRegistry, started, stopped, type TestRegistry } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function registry(overrides: Record<string, unknown> = {}): Promise<TestRegistry> {
  const r = await startTestRegistry(overrides);
  cleanups.push(() => r.close());
  return r;
}

describe('eureka-js-client against the registry', () => {
  it.each(['/eureka/apps/', '/eureka/v2/apps/'])('registers a live service (service path %s), lists it within 1 s, and its stop() removes it at once', async (path) => {
    const reg = await registry();
    const svc = await startService('orders-1');
    cleanups.push(() => svc.close());
    const client = eurekaClient({ url: `http://127.0.0.1:${reg.port}${path}`, app: 'orders', instanceId: 'orders-1', port: svc.port });
    const t0 = Date.now();
    await started(client);
    await waitFor(async () => (await listedIds(reg.base)).includes('orders-1'), { timeout: 1000, message: 'orders-1 in GET /apps' });
    expect(Date.now() - t0).toBeLessThan(1000);

    const [seen] = reg.registry.instances('ORDERS');
    expect(seen).toMatchObject({ app: 'ORDERS', instanceId: 'orders-1', url: `http://127.0.0.1:${svc.port}`, status: 'UP', weight: 1 });
    const one = await call('GET', `${reg.base}/apps/ORDERS/orders-1`);
    expect(one.json.instance).toMatchObject({ port: { $: svc.port, '@enabled': 'true' }, dataCenterInfo: { '@class': expect.stringContaining('DefaultDataCenterInfo') }, leaseInfo: { durationInSecs: 2 } });
    await fetch(seen!.url).then((r) => r.text()).then((t) => expect(t).toBe('orders-1')); // the registered URL is dialable

    await waitFor(() => reg.registry.state().selfPreservation.renewals > 0, { message: 'a heartbeat counted' });
    const changes: string[] = [];
    reg.registry.onChange((app) => changes.push(app));
    await stopped(client); // DELETE: resolves after the registry answered 200
    expect(reg.registry.instances('orders')).toEqual([]);
    expect(await listedIds(reg.base)).toEqual([]);
    expect(changes).toEqual(['ORDERS']);
  });

  it('evicts a client killed with SIGKILL after its lease expires, and never before', async () => {
    // Self-preservation off: one silent instance out of one is 0 % of renewals, which would (rightly) suspend eviction.
    const reg = await registry({ lease: { renewal: '200ms', expiry: '1500ms', evictEvery: '50ms' }, selfPreservation: false });
    const child: ChildProcess = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/eureka-child.cjs', import.meta.url)), `${reg.base}/apps/`, 'PAYMENTS', 'pay-1', '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.includes('registered') && out.includes('heartbeat'), { timeout: 5000, message: 'the child to register and heartbeat' });
    expect(reg.registry.instances('PAYMENTS')).toHaveLength(1);

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lastRenewal = reg.registry.get('PAYMENTS', 'pay-1')!.lastRenewedAt;
    const expiresAt = lastRenewal + 1500;
    // Present until the lease runs out: checked every 20 ms up to 100 ms before expiry.
    await waitFor(
      () => {
        expect(reg.registry.instances('PAYMENTS')).toHaveLength(1);
        return Date.now() >= expiresAt - 100;
      },
      { timeout: 3000, interval: 20, message: 'the lease to near its end' },
    );
    await waitFor(() => reg.registry.instances('PAYMENTS').length === 0, { timeout: 1000, message: 'eviction after expiry' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(reg.registry.state().evictions).toBe(1);
  });

  it('authenticates with credentials in the service URL, as Eureka clients write them', async () => {
    const reg = await registry({ auth: { basic: { user: 'svc', password: 'secret-pw-1' } } });
    const svc = await startService('inv-1');
    cleanups.push(() => svc.close());
    const bad = eurekaClient({ url: `http://svc:wrong-pw@127.0.0.1:${reg.port}/eureka/apps/`, app: 'inventory', instanceId: 'inv-0', port: svc.port });
    await expect(started(bad)).rejects.toThrow(/401/);
    const good = eurekaClient({ url: `http://svc:secret-pw-1@127.0.0.1:${reg.port}/eureka/apps/`, app: 'inventory', instanceId: 'inv-1', port: svc.port });
    await started(good);
    expect(reg.registry.instances('INVENTORY').map((i) => i.instanceId)).toEqual(['inv-1']);
    await stopped(good);
    expect(reg.registry.instances('INVENTORY')).toEqual([]);
  });
});
