/**
 * Issue 15 end to end: `discover: { eureka }` against a remote Eureka server
 * that is another gateway's registry (with Basic auth, credentials in the
 * URL as Eureka clients write them). The real eureka-js-client registers a
 * live service with the remote; the first gateway routes to it after a poll,
 * keeps it through an outage of the remote (counted in
 * switchyard_discovery_errors_total), and drops it once the client
 * deregisters and the remote is back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, waitFor } from '../../src/testing/index.js';
import { eurekaClient, FAST, startService, started, stopped } from '../registry/helpers.js';
import { metricValue, scrape, stream, upstreamsDoc } from './e2e-helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const AUTH = { basic: { user: 'svc', password: 'remote-pw-1' } };

describe('15 e2e: a gateway discovering from another gateway acting as a remote Eureka server', () => {
  it('routes to what registered on the remote, keeps it while the remote is down, and drops it after a deregistration', { timeout: 60_000 }, async () => {
    // The remote: a gateway that serves its registry on a fixed port (so it can come back on the same one) and routes nothing.
    const startRemote = (port: number) => startGateway({ gateway: { discovery: { registry: { ...FAST, listen: { host: '127.0.0.1', port }, auth: AUTH } } }, routeFiles: {} });
    let remote = await startRemote(0);
    const port = remote.gateway.registryPort!;
    cleanups.push(() => remote.close());

    const gw = await startGateway({
      gateway: {},
      routeFiles: {
        'orders.yaml': {
          routes: [{ id: 'orders', match: { path: '/orders/*' }, upstream: 'orders' }],
          upstreams: { orders: { discover: { eureka: { url: `http://svc:remote-pw-1@127.0.0.1:${port}/eureka`, app: 'ORDERS', refresh: '200ms', timeout: '500ms' } } } },
        },
      },
    });
    cleanups.push(() => gw.close());

    const svc = await startService('orders-1');
    cleanups.push(() => svc.close());
    const client = eurekaClient({ url: `http://svc:remote-pw-1@127.0.0.1:${port}/eureka/apps/`, app: 'orders', instanceId: 'orders-1', port: svc.port, heartbeatMs: 200 });
    await started(client);
    let registered = true;
    cleanups.push(() => (registered ? stopped(client).catch(() => undefined) : undefined));
    await waitFor(async () => {
      const r = await fetch(`${gw.url}/orders/x`);
      return r.status === 200 && (await r.text()) === 'orders-1';
    }, { timeout: 3000, interval: 20, message: 'the gateway to route to what registered on the remote' });
    const orders = (await upstreamsDoc(gw)).upstreams.find((u: { name: string }) => u.name === 'orders');
    expect(orders.discovery).toMatchObject({ kind: 'eureka', subject: `ORDERS at http://127.0.0.1:${port}/eureka`, instances: 1, errors: 0 });
    expect(JSON.stringify(orders)).not.toContain('remote-pw-1'); // credentials never shown

    // The remote goes away: polls fail, the set stays, requests keep succeeding.
    const s = stream(`${gw.url}/orders/x`, 5);
    cleanups.push(() => s.stop());
    await remote.close();
    await waitFor(async () => (metricValue(await scrape(gw), 'switchyard_discovery_errors_total', { upstream: 'orders', provider: 'eureka' }) ?? 0) >= 2, { timeout: 10_000, message: 'failed polls counted' });
    await s.stop();
    expect(s.failures()).toEqual([]);
    expect(s.answers.length).toBeGreaterThan(0);

    // Back on the same port (empty: memory store); the client re-registers on its heartbeat's 404, then deregisters.
    remote = await startRemote(port);
    await waitFor(() => remote.gateway.registryState()!.instances === 1, { timeout: 5000, message: 'the client to re-register' });
    const provider = gw.gateway.runtime.upstreams.get('orders')!.discovery!.provider;
    await waitFor(() => provider.state().lastError === undefined, { timeout: 5000, message: 'polls to recover' });
    await stopped(client);
    registered = false;
    await waitFor(async () => (await fetch(`${gw.url}/orders/x`)).status === 503, { timeout: 3000, interval: 20, message: 'the pool to empty after the deregistration' });
    expect(metricValue(await scrape(gw), 'switchyard_discovery_instances', { upstream: 'orders', provider: 'eureka' })).toBe(0);
  });
});
