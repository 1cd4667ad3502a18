/**
 * Issue 15 wired end to end: a gateway runs its own registry
 * (discovery.registry) and a route whose pool says `discover: { registry }`;
 * the real npm eureka-js-client registers a live node:http service with it,
 * the route answers from that service within a second, and once the client
 * stops the pool is empty and the route answers the documented 503.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { eurekaClient, FAST, started, startService, stopped } from '../registry/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway(upstream: Record<string, unknown>, discovery: Record<string, unknown> = { registry: FAST }): Promise<TestGateway> {
  const gw = await startGateway({
    gateway: { discovery },
    routeFiles: { 'orders.yaml': { routes: [{ id: 'orders', match: { path: '/orders/*' }, upstream: 'orders' }], upstreams: { orders: upstream } } },
  });
  cleanups.push(() => gw.close());
  return gw;
}

describe('15: a pool discovered from the gateway registry', () => {
  it('routes to a service registered by eureka-js-client within 1 s, and answers 503 once it deregisters', async () => {
    const gw = await gateway({ discover: { registry: 'ORDERS' } });
    const port = gw.gateway.registryPort!;
    expect(port).toBeGreaterThan(0);

    // Nothing registered yet: the pool is empty.
    const before = await fetch(`${gw.url}/orders/1`);
    expect(before.status).toBe(503);
    expect(await before.text()).toContain('SY_ERR_UPSTREAM_UNAVAILABLE');

    const svc = await startService('orders-1');
    cleanups.push(() => svc.close());
    const client = eurekaClient({ url: `http://127.0.0.1:${port}/eureka/apps/`, app: 'orders', instanceId: 'orders-1', port: svc.port });
    let stop = true;
    cleanups.push(() => (stop ? stopped(client).catch(() => undefined) : undefined));
    const t0 = Date.now();
    await started(client);
    await waitFor(
      async () => {
        const r = await fetch(`${gw.url}/orders/1`);
        return r.status === 200 && (await r.text()) === 'orders-1';
      },
      { timeout: 1000, interval: 20, message: 'the route to answer from orders-1' },
    );
    expect(Date.now() - t0).toBeLessThan(1000);

    const pool = gw.gateway.runtime.upstreams.get('orders')!;
    expect(pool.targets.map((t) => t.id)).toEqual([`http://127.0.0.1:${svc.port}`]);
    expect(pool.targets[0]!.source).toMatch(/^registry ORDERS orders-1, lease \d+s$/);
    // /upstreams shows where each target came from, and the provider's state.
    const view = (await (await fetch(`${gw.adminUrl}/upstreams`)).json()) as { upstreams: Array<{ name: string; discovery: { kind: string; subject: string; instances: number } | null; targets: Array<{ url: string; source: string | null }> }> };
    const orders = view.upstreams.find((u) => u.name === 'orders')!;
    expect(orders.discovery).toMatchObject({ kind: 'registry', subject: 'ORDERS', instances: 1 });
    expect(orders.targets).toEqual([expect.objectContaining({ url: `http://127.0.0.1:${svc.port}`, source: expect.stringMatching(/^registry ORDERS orders-1, lease \d+s$/) })]);

    await stopped(client);
    stop = false;
    await waitFor(
      async () => {
        const r = await fetch(`${gw.url}/orders/1`);
        return r.status === 503 && (await r.text()).includes('SY_ERR_UPSTREAM_UNAVAILABLE');
      },
      { timeout: 1000, interval: 20, message: 'the route to answer 503 once orders-1 left' },
    );
  }, 20_000); // the 1 s bounds are asserted inside; starting a gateway and a real Eureka client took over 5 s on a loaded machine

  it('refuses `discover: { registry }` without discovery.registry, at its file:line', async () => {
    await expect(
      startGateway({
        gateway: 'log: { level: silent }\n',
        routeFiles: { 'orders.yaml': 'routes:\n  - { id: orders, match: { path: /orders/* }, upstream: orders }\nupstreams:\n  orders:\n    discover: { registry: ORDERS }\n' },
      }),
    ).rejects.toThrow(/orders\.yaml:5:\d+: upstreams\.orders\.discover: discover: \{ registry: ORDERS \} needs the gateway's registry: set discovery\.registry in gateway\.yaml/);
  });

  it('runs no registry when discovery.registry is not set', async () => {
    const gw = await gateway({ targets: [{ url: 'http://127.0.0.1:9' }] }, {});
    expect(gw.gateway.registryPort).toBeUndefined();
    const view = (await (await fetch(`${gw.adminUrl}/upstreams`)).json()) as { upstreams: Array<{ discovery: unknown; targets: Array<{ source: unknown }> }> };
    expect(view.upstreams[0]!.discovery).toBeNull();
    expect(view.upstreams[0]!.targets[0]!.source).toBeNull();
  });

  it('changing discovery.registry on reload is a restart-required notice, and the registry keeps serving', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'sy-discovery-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const gatewayYaml = (maxInstances: number) =>
      `listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: [./orders.yaml]\nreload: { watch: false }\ndiscovery:\n  registry: { listen: { host: 127.0.0.1, port: 0 }, maxInstancesPerApp: ${maxInstances} }\n`;
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(1000));
    await writeFile(join(dir, 'orders.yaml'), 'routes:\n  - { id: orders, match: { path: /orders/* }, upstream: orders }\nupstreams:\n  orders:\n    discover: { registry: ORDERS }\n');
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
    cleanups.push(() => gw.close());
    const port = gw.gateway.registryPort!;
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(5));
    const result = await gw.gateway.reload();
    expect(result.ok).toBe(true);
    expect(result.ok && result.restartRequired).toEqual([{ key: 'discovery.registry.maxInstancesPerApp', running: 1000, configured: 5 }]);
    expect((await fetch(`http://127.0.0.1:${port}/eureka/apps`, { headers: { accept: 'application/json' } })).status).toBe(200);
  });
});

/** serveOn answers `name` on host:port (port 0: a free one). */
async function serveOn(host: string, port: number, name: string): Promise<{ port: number; server: Server }> {
  const server = createServer((_req, res) => res.end(name));
  server.listen(port, host);
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as { port: number }).port, server };
}

describe('15: a pool discovered from DNS (dnsmasq)', () => {
  it('routes to the A record, follows a change of the record, and keeps the set through a DNS outage', async () => {
    const a = await serveOn('127.0.0.2', 0, 'a');
    await serveOn('127.0.0.3', a.port, 'b');
    const dns = await startDnsmasq({ hosts: ['127.0.0.2 orders.test'], ttl: 0 });
    cleanups.push(() => dns.close());
    const gw = await gateway(
      { discover: { dns: { name: 'orders.test', port: a.port, family: 'ipv4', refresh: '100ms' } } },
      { dns: { servers: [dns.server], timeout: '200ms', tries: 1 } },
    );
    const answer = async () => {
      const r = await fetch(`${gw.url}/orders/1`);
      return `${r.status} ${await r.text()}`;
    };
    await waitFor(async () => (await answer()) === '200 a', { timeout: 2000, interval: 20, message: 'the route to answer from 127.0.0.2' });
    expect(gw.gateway.runtime.upstreams.get('orders')!.targets[0]!.source).toMatch(/orders\.test/);

    await dns.setHosts(['127.0.0.3 orders.test']);
    await waitFor(async () => (await answer()) === '200 b', { timeout: 2000, interval: 20, message: 'the route to follow the record to 127.0.0.3' });

    await dns.stop();
    // Failing lookups keep the last known set: the route keeps answering, after the first failure and after later ones.
    const provider = gw.gateway.runtime.upstreams.get('orders')!.discovery!.provider;
    for (let failures = 1; failures <= 2; failures++) {
      await waitFor(() => provider.state().errors >= failures, { timeout: 5000, message: `failed lookup ${failures}` });
      expect(await answer()).toBe('200 b');
    }
    expect(provider.state().errors).toBeGreaterThan(0);
  });
});
