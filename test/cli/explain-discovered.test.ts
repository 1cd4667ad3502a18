/**
 * Issue 15: `switchyard explain` and `switchyard routes` on discovered pools
 * and automatic routes. The files list no targets: with the gateway running
 * (its admin API at the address gateway.yaml gives), explain names the
 * discovered target the balancer would pick; without it, it says where the
 * targets come from at run time. Never an empty target list unexplained.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, waitFor } from '../../src/testing/index.js';
import { body, call } from '../registry/helpers.js';
import { runCli, tempDir } from './helpers.js';
import { freePort } from '../helpers/ports.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** fixture writes a gateway with its registry, automatic routes, a registry pool and a DNS pool. */
async function fixture(adminPort: number): Promise<string> {
  const { dir, remove } = await tempDir('sy-explain-disc-');
  cleanups.push(remove);
  await writeFile(
    join(dir, 'gateway.yaml'),
    `log: { level: silent }\nlisten: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: ${adminPort} }\nroutes: [./orders.yaml]\nreload: { watch: false }\ndiscovery:\n  registry: { listen: { host: 127.0.0.1, port: 0 }, selfPreservation: false, lease: { renewal: 30s, expiry: 90s } }\n  autoRoutes: { prefix: /services }\n`,
  );
  await writeFile(
    join(dir, 'orders.yaml'),
    'routes:\n  - { id: orders, match: { path: /orders/* }, upstream: orders }\n  - { id: catalog, match: { path: /catalog/* }, upstream: catalog }\nupstreams:\n  orders:\n    discover: { registry: ORDERS }\n  catalog:\n    discover: { dns: { name: catalog.internal, port: 8080 } }\n',
  );
  return join(dir, 'gateway.yaml');
}

describe('15: explain and routes on discovered pools', () => {
  it('without a running gateway: says where the targets come from, for a pool and for an automatic route', async () => {
    const config = await fixture(await freePort());
    const pool = await runCli(['explain', 'GET', '/orders/1', '--config', config]);
    expect(pool.code).toBe(0);
    expect(pool.stdout).toContain('→ route orders (');
    expect(pool.stdout).toContain('  target:   targets discovered at run time from registry ORDERS');
    expect(pool.stdout).toMatch(/no running gateway answered at http:\/\/127\.0\.0\.1:\d+/);
    expect(pool.stdout).not.toContain('none eligible');

    const dns = await runCli(['explain', 'GET', '/catalog/1', '--config', config]);
    expect(dns.stdout).toContain('targets discovered at run time from dns catalog.internal:8080');

    const auto = await runCli(['explain', 'GET', '/services/payments/x?y=1', '--config', config]);
    expect(auto.code).toBe(0);
    expect(auto.stdout).toContain('→ automatic route auto:PAYMENTS (discovery.autoRoutes, prefix /services)');
    expect(auto.stdout).toContain('  upstream: auto:PAYMENTS (round-robin, 0/0 eligible)');
    expect(auto.stdout).toContain('  target:   targets discovered at run time from registry PAYMENTS');
    expect(auto.stdout).toContain('  path sent upstream: /x');

    const routes = await runCli(['routes', '--config', config]);
    expect(routes.code).toBe(0);
    expect(routes.stdout).toMatch(/^auto:\{APP\}\s+\* \/services\/\{app\}\/\*\s+auto:\{APP\} \(strip\)\s+-\s+auto$/m);
    expect(routes.stdout).toContain('upstream orders: targets discovered at run time from registry ORDERS');
    expect(routes.stdout).toContain('upstream catalog: targets discovered at run time from dns catalog.internal:8080');
    expect(routes.stdout).toContain('upstream auto:{APP}: targets discovered at run time from registry {APP}');
  }, 60000);

  it('validate prints a warning when a catch-all route makes the automatic routes unreachable, and still passes', async () => {
    const config = await fixture(await freePort());
    const ok = await runCli(['validate', '--config', config]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
    await writeFile(join(config, '../orders.yaml'), 'routes:\n  - { id: everything, match: { path: /* }, upstream: all }\nupstreams:\n  all:\n    targets: [{ url: "http://127.0.0.1:9" }]\n');
    const warned = await runCli(['validate', '--config', config]);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/^warning: route "everything" \(.*orders\.yaml:2\) matches every request under \/services: discovery\.autoRoutes is unreachable there \(explicit routes win\)$/m);
  }, 60000);

  it("with the gateway running: names the discovered target the balancer would pick, from the gateway's admin API", async () => {
    const adminPort = await freePort();
    const config = await fixture(adminPort);
    const gw = await startGateway({ configFile: config });
    cleanups.push(() => gw.close());
    const svc = await startUpstream('orders-1');
    cleanups.push(() => svc.close());
    const base = `http://127.0.0.1:${gw.gateway.registryPort}/eureka`;
    expect((await call('POST', `${base}/apps/ORDERS`, { body: body('ORDERS', 'o-1', { port: { $: svc.port, '@enabled': true } }) })).status).toBe(204);
    await waitFor(() => gw.gateway.runtime.upstreams.get('orders')!.eligible.length === 1, { timeout: 2000, message: 'ORDERS in the pool' });

    const pool = await runCli(['explain', 'GET', '/orders/1', '--config', config]);
    expect(pool.code).toBe(0);
    expect(pool.stdout).toContain('  upstream: orders (round-robin, 1/1 eligible)');
    expect(pool.stdout).toMatch(new RegExp(`  target:   ${svc.url.replace(/\./g, '\\.')} \\(registry ORDERS o-1, lease \\d+s\\)`));
    expect(pool.stdout).toContain(`discovered by the running gateway (http://127.0.0.1:${adminPort})`);

    const auto = await runCli(['explain', 'GET', '/services/orders/x', '--config', config]);
    expect(auto.code).toBe(0);
    expect(auto.stdout).toContain('→ automatic route auto:ORDERS');
    expect(auto.stdout).toMatch(new RegExp(`  target:   ${svc.url.replace(/\./g, '\\.')} \\(registry ORDERS o-1, lease \\d+s\\)`));

    const unknown = await runCli(['explain', 'GET', '/services/nobody/x', '--config', config]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('registry NOBODY is not registered with the running gateway');
    expect(unknown.stdout).toContain('404');

    // A pool the running gateway knows but whose instances are gone: the 503, explained.
    expect((await call('DELETE', `${base}/apps/ORDERS/o-1`)).status).toBe(200);
    await waitFor(() => gw.gateway.runtime.upstreams.get('orders')!.eligible.length === 0, { timeout: 2000, message: 'ORDERS empty' });
    const empty = await runCli(['explain', 'GET', '/orders/1', '--config', config]);
    expect(empty.stdout).toContain('  target:   (none eligible: 503; 0 discovered, none up)');
  }, 60000);
});
