/**
 * Issue 15, discovery.autoRoutes: Zuul's default mapping. The gateway runs its
 * own registry on a loopback port; services register over plain HTTP as
 * Eureka clients do, and `/services/{app}/...` reaches them (prefix and app
 * segment stripped) without a route file. Explicit routes always win; an
 * unknown application is the normal 404, one with no UP instance the 503.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { body, call, eurekaClient, FAST, started, stopped } from '../registry/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** REGISTRY is FAST with leases long enough that nothing expires during a test (removal is by cancel). */
const REGISTRY = { ...FAST, lease: { renewal: '30s', expiry: '90s', evictEvery: '60s' }, selfPreservation: false };

async function gateway(opts: { routeFiles?: Record<string, unknown>; autoRoutes?: Record<string, unknown> | null; logger?: import('pino').Logger; registry?: Record<string, unknown> } = {}): Promise<TestGateway> {
  const discovery: Record<string, unknown> = { registry: opts.registry ?? REGISTRY };
  if (opts.autoRoutes !== null) discovery.autoRoutes = opts.autoRoutes ?? {};
  const gw = await startGateway({ gateway: { discovery }, routeFiles: opts.routeFiles ?? {}, ...(opts.logger ? { logger: opts.logger } : {}) });
  cleanups.push(() => gw.close());
  return gw;
}

async function service(name: string): Promise<TestUpstream> {
  const up = await startUpstream(name);
  cleanups.push(() => up.close());
  return up;
}

/** register registers `svc` as instance `id` of `app` with the gateway's registry (status UP unless given). */
async function register(gw: TestGateway, app: string, id: string, svc: TestUpstream, status = 'UP'): Promise<void> {
  const r = await call('POST', `${registryBase(gw)}/apps/${app}`, { body: body(app, id, { port: { $: svc.port, '@enabled': true }, status }) });
  expect(r.status).toBe(204);
}

async function cancel(gw: TestGateway, app: string, id: string): Promise<void> {
  expect((await call('DELETE', `${registryBase(gw)}/apps/${app}/${id}`)).status).toBe(200);
}

const registryBase = (gw: TestGateway) => `http://127.0.0.1:${gw.gateway.registryPort}/eureka`;

/** get answers `status body` (the echo upstream's JSON parsed when it is one). */
async function get(gw: TestGateway, path: string): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(`${gw.url}${path}`);
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

// Generous: the first test also pays for loading the gateway's modules on a loaded machine.
describe('15: discovery.autoRoutes', { timeout: 30000 }, () => {
  it('routes /services/{app}/... to the registry application, prefix and app segment stripped', async () => {
    const gw = await gateway();
    const orders = await service('orders-1');
    await register(gw, 'ORDERS', 'orders-1', orders);
    const r = await waitFor(async () => {
      const a = await get(gw, '/services/orders/items/7?x=1');
      return a.status === 200 ? a : undefined;
    }, { timeout: 2000, interval: 20, message: 'the automatic route to ORDERS' });
    expect(r.json).toMatchObject({ upstream: 'orders-1', url: '/items/7?x=1' });
    // The application segment is case-insensitive (Eureka stores names upper case); the bare app path is `/` upstream.
    expect((await get(gw, '/services/ORDERS/a')).json).toMatchObject({ upstream: 'orders-1', url: '/a' });
    expect((await get(gw, '/services/orders')).json).toMatchObject({ upstream: 'orders-1', url: '/' });
    const pool = gw.gateway.runtime.autoRoutes!.upstreams()[0]!;
    expect(pool.name).toBe('auto:ORDERS');
    expect(pool.balancer.name).toBe('round-robin');
    // Passive outlier detection is on by default, as for any upstream.
    expect(pool.passive).toBeDefined();
  });

  it('balances over every instance of the application', async () => {
    const gw = await gateway();
    const a = await service('a');
    const b = await service('b');
    await register(gw, 'ORDERS', 'a', a);
    await register(gw, 'ORDERS', 'b', b);
    await waitFor(() => gw.gateway.runtime.autoRoutes!.upstreams()[0]?.eligible.length === 2, { timeout: 2000, message: 'both instances eligible' });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await get(gw, '/services/orders/x')).json.upstream);
    expect([...seen].sort()).toEqual(['a', 'b']);
  });

  it('an application registered after start is routable within 1 s; a cancelled one is the normal 404', async () => {
    const gw = await gateway();
    const before = await get(gw, '/services/payments/x');
    expect(before.status).toBe(404);
    expect(before.json.error.code).toBe('SY_ERR_ROUTE_NOT_FOUND');
    const payments = await service('payments-1');
    const t0 = Date.now();
    await register(gw, 'PAYMENTS', 'p-1', payments);
    await waitFor(async () => (await get(gw, '/services/payments/x')).status === 200, { timeout: 1000, interval: 20, message: 'PAYMENTS routable' });
    expect(Date.now() - t0).toBeLessThan(1000);

    await cancel(gw, 'PAYMENTS', 'p-1');
    await waitFor(async () => (await get(gw, '/services/payments/x')).json?.error?.code === 'SY_ERR_ROUTE_NOT_FOUND', { timeout: 1000, interval: 20, message: 'PAYMENTS gone: 404' });
    expect(gw.gateway.runtime.autoRoutes!.upstreams()).toEqual([]);
  });

  it('the real eureka-js-client: a service that starts is routed within 1 s, and one that stops gracefully leaves at once', async () => {
    const gw = await gateway();
    const svc = await service('catalog-1');
    const client = eurekaClient({ url: `${registryBase(gw)}/apps/`, app: 'catalog', instanceId: 'catalog-1', port: svc.port });
    let running = false;
    cleanups.push(() => (running ? stopped(client).catch(() => undefined) : undefined));
    const t0 = Date.now();
    await started(client);
    running = true;
    await waitFor(async () => (await get(gw, '/services/catalog/items')).json?.url === '/items', { timeout: 1000, interval: 20, message: 'CATALOG routable' });
    expect(Date.now() - t0).toBeLessThan(1000);
    await stopped(client);
    running = false;
    await waitFor(async () => (await get(gw, '/services/catalog/items')).json?.error?.code === 'SY_ERR_ROUTE_NOT_FOUND', { timeout: 1000, interval: 20, message: 'CATALOG gone: 404' });
  });

  it('an application whose lease expires leaves with its route (404), with no reload', async () => {
    // FAST leases: expiry 1.5 s, evicted every 100 ms; nobody heartbeats.
    const gw = await gateway({ registry: { ...FAST, selfPreservation: false } });
    const svc = await service('orders-1');
    const t0 = Date.now();
    await register(gw, 'ORDERS', 'o-1', svc);
    await waitFor(async () => (await get(gw, '/services/orders/x')).status === 200, { timeout: 1000, interval: 20, message: 'ORDERS routable' });
    await waitFor(async () => (await get(gw, '/services/orders/x')).json?.error?.code === 'SY_ERR_ROUTE_NOT_FOUND', { timeout: 5000, interval: 50, message: 'ORDERS expired: 404' });
    // Never before its lease (1.5 s from the registration) ran out.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(gw.gateway.runtime.autoRoutes!.routes()).toEqual([]);
  });

  it('an unknown application, or the prefix alone, is the normal 404', async () => {
    const gw = await gateway();
    for (const path of ['/services/nobody/x', '/services', '/services/', '/servicesx/orders']) {
      const r = await get(gw, path);
      expect(r.status, path).toBe(404);
      expect(r.json.error.code, path).toBe('SY_ERR_ROUTE_NOT_FOUND');
    }
  });

  it('an application whose instances are all DOWN answers the documented 503', async () => {
    const gw = await gateway();
    const svc = await service('down-1');
    await register(gw, 'ORDERS', 'down-1', svc, 'DOWN');
    await waitFor(() => gw.gateway.runtime.autoRoutes!.routes().length === 1, { timeout: 1000, message: 'the ORDERS route' });
    const r = await get(gw, '/services/orders/x');
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('SY_ERR_UPSTREAM_UNAVAILABLE');
    expect(svc.hits()).toBe(0);
  });

  it('explicit routes always win, even a shorter prefix than the automatic one', async () => {
    const explicit = await service('explicit');
    const gw = await gateway({
      routeFiles: {
        'r.yaml': {
          routes: [
            { id: 'orders-v2', match: { path: '/services/orders/v2/*' }, upstream: 'static' },
            { id: 'payments', match: { path: '/services/payments/*' }, upstream: 'static' },
          ],
          upstreams: { static: { targets: [{ url: explicit.url }] } },
        },
      },
    });
    const orders = await service('orders-1');
    const payments = await service('payments-1');
    await register(gw, 'ORDERS', 'o-1', orders);
    await register(gw, 'PAYMENTS', 'p-1', payments);
    await waitFor(() => gw.gateway.runtime.autoRoutes!.routes().length === 2, { timeout: 1000, message: 'both automatic routes' });
    expect((await get(gw, '/services/orders/v2/x')).json.upstream).toBe('explicit');
    expect((await get(gw, '/services/orders/v1/x')).json.upstream).toBe('orders-1');
    expect((await get(gw, '/services/payments/x')).json.upstream).toBe('explicit');
    expect(payments.hits()).toBe(0);
  });

  it('is off by default: a registered application is not routed without discovery.autoRoutes', async () => {
    const gw = await gateway({ autoRoutes: null });
    await register(gw, 'ORDERS', 'o-1', await service('orders-1'));
    expect(gw.gateway.runtime.autoRoutes).toBeUndefined();
    expect((await get(gw, '/services/orders/x')).status).toBe(404);
  });

  it('refuses autoRoutes without discovery.registry, at its file:line', async () => {
    await expect(startGateway({ gateway: 'log: { level: silent }\ndiscovery:\n  autoRoutes: { prefix: /services }\n', routeFiles: {} })).rejects.toThrow(
      /<inline gateway>:3:\d+: discovery\.autoRoutes: discovery\.autoRoutes routes the applications of the gateway's own registry: set discovery\.registry too/,
    );
  });

  it('refuses a malformed prefix and an unknown key, with a suggestion', async () => {
    const yaml = (auto: string) => `log: { level: silent }\ndiscovery:\n  registry: { listen: { host: 127.0.0.1, port: 0 } }\n  autoRoutes: ${auto}\n`;
    await expect(startGateway({ gateway: yaml('{ prefix: services }'), routeFiles: {} })).rejects.toThrow(/<inline gateway>:4:\d+: discovery\.autoRoutes\.prefix/);
    await expect(startGateway({ gateway: yaml('{ prefx: /services }'), routeFiles: {} })).rejects.toThrow(/discovery\.autoRoutes.*prefx.*did you mean "prefix"/s);
  });

  it('warns at load when a route-file catch-all makes the automatic routes unreachable', async () => {
    const log = captureLog('warn');
    const up = await service('all');
    await gateway({
      logger: log.logger,
      routeFiles: { 'all.yaml': { routes: [{ id: 'everything', match: { path: '/*' }, upstream: 'all' }, { id: 'api', match: { path: '/services/api/*' }, upstream: 'all' }], upstreams: { all: { targets: [{ url: up.url }] } } } },
    });
    const warnings = log.lines.filter((l) => String(l.msg).includes('discovery.autoRoutes is unreachable'));
    expect(warnings.map((l) => l.route)).toEqual(['everything']);
  });

  it('shows automatic routes in /routes (source auto) and their pools in /upstreams', async () => {
    const gw = await gateway();
    const orders = await service('orders-1');
    await register(gw, 'ORDERS', 'o-1', orders);
    await waitFor(() => gw.gateway.runtime.autoRoutes!.routes().length === 1, { timeout: 1000, message: 'the ORDERS route' });
    const routes = (await (await fetch(`${gw.adminUrl}/routes`)).json()) as any;
    expect(routes.autoRoutes).toEqual({ prefix: '/services', path: '/services/{app}/*', upstream: 'auto:{APP}', stripPrefix: true, chain: [], source: 'auto' });
    expect(routes.routes).toEqual([expect.objectContaining({ id: 'auto:ORDERS', source: 'auto', path: '/services/orders/*', upstream: 'auto:ORDERS', stripPrefix: true })]);
    const ups = (await (await fetch(`${gw.adminUrl}/upstreams`)).json()) as any;
    const pool = ups.upstreams.find((u: any) => u.name === 'auto:ORDERS');
    expect(pool.discovery).toMatchObject({ kind: 'registry', subject: 'ORDERS', instances: 1 });
    expect(pool.targets).toEqual([expect.objectContaining({ url: orders.url, source: expect.stringMatching(/^registry ORDERS o-1, lease \d+s$/) })]);
  });

  it('an automatic pool is drained through the admin API like any pool, and its targets and provider are in the metrics', async () => {
    const gw = await gateway();
    const a = await service('a');
    const b = await service('b');
    await register(gw, 'ORDERS', 'a', a);
    await register(gw, 'ORDERS', 'b', b);
    await waitFor(() => gw.gateway.runtime.autoRoutes!.upstreams()[0]?.eligible.length === 2, { timeout: 2000, message: 'both instances eligible' });
    const pool = gw.gateway.runtime.autoRoutes!.upstreams()[0]!;
    const index = pool.targets.find((t) => t.id === a.url)!.index;
    const drained = await fetch(`${gw.adminUrl}/upstreams/${encodeURIComponent('auto:ORDERS')}/targets/${index}/drain`, { method: 'POST' });
    expect(drained.status).toBe(200);
    expect(await drained.json()).toMatchObject({ upstream: 'auto:ORDERS', target: a.url, draining: true });
    for (let i = 0; i < 4; i++) expect((await get(gw, '/services/orders/x')).json.upstream).toBe('b');
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toContain(`switchyard_target_healthy{upstream="auto:ORDERS",target="${b.url}",state="healthy"} 1`);
    expect(metrics).toContain(`switchyard_target_healthy{upstream="auto:ORDERS",target="${a.url}",state="draining"} 0`);
    expect(metrics).toContain('switchyard_discovery_instances{upstream="auto:ORDERS",provider="registry"} 2');
  });

  it('applies a prefix change on reload and keeps the running pools (connections, health)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-auto-routes-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const yaml = (prefix: string) =>
      `log: { level: silent }\nlisten: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: [./r.yaml]\nreload: { watch: false }\ndiscovery:\n  registry: { listen: { host: 127.0.0.1, port: 0 }, lease: { renewal: 30s, expiry: 90s } }\n  autoRoutes: { prefix: ${prefix} }\n`;
    await writeFile(join(dir, 'gateway.yaml'), yaml('/services'));
    await writeFile(join(dir, 'r.yaml'), 'routes: []\n');
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
    cleanups.push(() => gw.close());
    const orders = await service('orders-1');
    await register(gw, 'ORDERS', 'o-1', orders);
    await waitFor(async () => (await get(gw, '/services/orders/x')).status === 200, { timeout: 1000, interval: 20, message: 'ORDERS under /services' });
    const pool = gw.gateway.runtime.autoRoutes!.upstreams()[0]!;

    await writeFile(join(dir, 'gateway.yaml'), yaml('/apps/v1'));
    expect((await gw.gateway.reload()).ok).toBe(true);
    expect((await get(gw, '/apps/v1/orders/x')).json).toMatchObject({ upstream: 'orders-1', url: '/x' });
    expect((await get(gw, '/services/orders/x')).status).toBe(404);
    // The pool was taken over, not rebuilt: same object, same targets.
    expect(gw.gateway.runtime.autoRoutes!.upstreams()[0]).toBe(pool);
    expect(pool.targets.length).toBe(1);

    // Turned off by a reload: the automatic routes go, the registry stays.
    await writeFile(join(dir, 'gateway.yaml'), yaml('/apps/v1').replace(/\n {2}autoRoutes:.*\n/, '\n'));
    expect((await gw.gateway.reload()).ok).toBe(true);
    expect(gw.gateway.runtime.autoRoutes).toBeUndefined();
    expect((await get(gw, '/apps/v1/orders/x')).status).toBe(404);
  });
});
