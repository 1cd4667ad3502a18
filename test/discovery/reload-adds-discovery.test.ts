/**
 * Issue 17: src/discovery is imported only for a configuration with a
 * `discover:` pool (or automatic routes). A gateway that started with fixed
 * targets only gets a discovered pool by a reload, which must work as it
 * does from the start: the pool fills from its provider and serves.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, waitFor } from '../../src/testing/index.js';
import { startDnsmasq } from '../helpers/dnsmasq.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('17: a reload adds the first discovered pool', () => {
  it('a gateway started with fixed targets only fills and serves a `discover:` pool a reload adds', async () => {
    const fixed = await startUpstream('fixed');
    cleanups.push(() => fixed.close());
    const found = await startUpstream('found');
    cleanups.push(() => found.close());
    const dns = await startDnsmasq({ hosts: ['127.0.0.1 orders.test'], ttl: 60 });
    cleanups.push(() => dns.close());
    const dir = await mkdtemp(join(tmpdir(), 'sy-reload-adds-discovery-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, 'gateway.yaml'),
      `log: { level: silent }\nlisten: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: [./orders.yaml]\nreload: { watch: false }\ndiscovery:\n  dns: { servers: ["${dns.server}"], timeout: 500ms, tries: 2 }\n`,
    );
    const routes = (upstream: string) => `routes:\n  - { id: orders, match: { path: /orders/* }, upstream: orders }\nupstreams:\n  orders:\n${upstream}`;
    await writeFile(join(dir, 'orders.yaml'), routes(`    targets: [ { url: "http://127.0.0.1:${fixed.port}" } ]\n`));
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
    cleanups.push(() => gw.close());
    expect((await fetch(`${gw.url}/orders/1`)).status).toBe(200);

    await writeFile(join(dir, 'orders.yaml'), routes(`    discover: { dns: { name: orders.test, port: ${found.port}, family: ipv4 } }\n`));
    const result = await gw.gateway.reload();
    expect(result.ok).toBe(true);
    const pool = gw.gateway.runtime.upstreams.get('orders')!;
    await waitFor(() => pool.eligible.length === 1, { timeout: 5000, message: 'the discovered pool to fill' });
    expect(pool.targets.map((t) => t.url.origin)).toEqual([`http://127.0.0.1:${found.port}`]);
    const r = await fetch(`${gw.url}/orders/1`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('found');
  }, 30000);
});
