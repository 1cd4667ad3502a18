/**
 * Issue 15: a reload that rebuilds a discovered pool (its doc changed) starts
 * the new pool from the set the running provider last reported, so the pool
 * is never empty, not even until the new provider's first answer (a DNS
 * lookup is asynchronous). Steady traffic through 20 such reloads sees no 503.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, waitFor, type TestGateway } from '../../src/testing/index.js';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import { body, call } from '../registry/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** fixture writes gateway.yaml and a route file whose pool's response timeout is `n` seconds (a change rebuilds the pool). */
async function fixture(discovery: string, discover: string): Promise<{ gw: TestGateway; rewrite: (n: number) => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-reload-seed-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'gateway.yaml'),
    `log: { level: silent }\nlisten: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: [./orders.yaml]\nreload: { watch: false }\ndiscovery:\n${discovery}`,
  );
  const rewrite = (n: number) =>
    writeFile(join(dir, 'orders.yaml'), `routes:\n  - { id: orders, match: { path: /orders/* }, upstream: orders }\nupstreams:\n  orders:\n    discover: ${discover}\n    timeouts: { response: ${n}s }\n`);
  await rewrite(30);
  const gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
  cleanups.push(() => gw.close());
  return { gw, rewrite };
}

/** steadyTraffic sends requests back to back from `clients` loops until stopped; returns the status counts. */
function steadyTraffic(url: string, clients: number): { stop: () => Promise<Map<number, number>> } {
  const counts = new Map<number, number>();
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const r = await fetch(url).catch(() => undefined);
      const status = r?.status ?? 0;
      await r?.arrayBuffer();
      counts.set(status, (counts.get(status) ?? 0) + 1);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return counts;
    },
  };
}

/** reloads20 rebuilds the pool 20 times; after each, the new pool already holds the running set (same Target objects). */
async function reloads20(gw: TestGateway, rewrite: (n: number) => Promise<void>): Promise<void> {
  for (let i = 1; i <= 20; i++) {
    const before = gw.gateway.runtime.upstreams.get('orders')!;
    const targets = before.targets.filter((t) => !t.retiring);
    await rewrite(30 + i);
    const result = await gw.gateway.reload();
    expect(result.ok).toBe(true);
    const after = gw.gateway.runtime.upstreams.get('orders')!;
    expect(after).not.toBe(before);
    expect(after.targets).toEqual(targets);
    expect(after.targets.every((t, n) => t === targets[n])).toBe(true);
    expect(after.eligible.length).toBe(targets.length);
  }
}

describe('15: a reload never empties a discovered pool', () => {
  it('a DNS-discovered pool (its first lookup is asynchronous): 20 reloads under steady traffic, zero 503', async () => {
    const up = await startUpstream('orders');
    cleanups.push(() => up.close());
    const dns = await startDnsmasq({ hosts: ['127.0.0.1 orders.test'], ttl: 60 });
    cleanups.push(() => dns.close());
    const { gw, rewrite } = await fixture(
      `  dns: { servers: ["${dns.server}"], timeout: 500ms, tries: 2 }\n`,
      `{ dns: { name: orders.test, port: ${up.port}, family: ipv4 } }`,
    );
    await waitFor(async () => (await fetch(`${gw.url}/orders/1`)).status === 200, { timeout: 5000, interval: 20, message: 'the DNS pool to fill' });
    const traffic = steadyTraffic(`${gw.url}/orders/1`, 4);
    await reloads20(gw, rewrite);
    const counts = await traffic.stop();
    expect(counts.get(503) ?? 0).toBe(0);
    expect([...counts.keys()]).toEqual([200]);
    expect(counts.get(200)).toBeGreaterThan(20);
  }, 60000);

  it("a pool of the gateway's registry: 20 reloads under steady traffic, zero 503", async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    cleanups.push(() => a.close(), () => b.close());
    const { gw, rewrite } = await fixture(`  registry: { listen: { host: 127.0.0.1, port: 0 }, selfPreservation: false }\n`, '{ registry: ORDERS }');
    const base = `http://127.0.0.1:${gw.gateway.registryPort}/eureka`;
    for (const [id, svc] of [['a', a], ['b', b]] as const) {
      expect((await call('POST', `${base}/apps/ORDERS`, { body: body('ORDERS', id, { port: { $: svc.port, '@enabled': true } }) })).status).toBe(204);
    }
    await waitFor(() => gw.gateway.runtime.upstreams.get('orders')!.eligible.length === 2, { timeout: 2000, message: 'both instances in the pool' });
    const traffic = steadyTraffic(`${gw.url}/orders/1`, 4);
    await reloads20(gw, rewrite);
    const counts = await traffic.stop();
    expect([...counts.keys()]).toEqual([200]);
    expect(a.hits()).toBeGreaterThan(0);
    expect(b.hits()).toBeGreaterThan(0);
  }, 60000);

  it('automatic routes (discovery.autoRoutes): 20 reloads under steady traffic, zero 503, the pool taken over each time', async () => {
    const a = await startUpstream('a');
    cleanups.push(() => a.close());
    const { gw, rewrite } = await fixture(`  registry: { listen: { host: 127.0.0.1, port: 0 }, selfPreservation: false }\n  autoRoutes: { prefix: /services }\n`, '{ registry: ORDERS }');
    const base = `http://127.0.0.1:${gw.gateway.registryPort}/eureka`;
    expect((await call('POST', `${base}/apps/PAYMENTS`, { body: body('PAYMENTS', 'a', { port: { $: a.port, '@enabled': true } }) })).status).toBe(204);
    await waitFor(() => gw.gateway.runtime.autoRoutes!.upstreams()[0]?.eligible.length === 1, { timeout: 2000, message: 'PAYMENTS routable' });
    const pool = gw.gateway.runtime.autoRoutes!.upstreams()[0]!;
    const traffic = steadyTraffic(`${gw.url}/services/payments/1`, 4);
    for (let i = 1; i <= 20; i++) {
      await rewrite(30 + i);
      expect((await gw.gateway.reload()).ok).toBe(true);
      expect(gw.gateway.runtime.autoRoutes!.upstreams()).toEqual([pool]);
    }
    const counts = await traffic.stop();
    expect([...counts.keys()]).toEqual([200]);
  }, 60000);

  it('a pool whose `discover:` changed starts from its own provider, not the old set', async () => {
    const up = await startUpstream('orders');
    cleanups.push(() => up.close());
    const dns = await startDnsmasq({ hosts: ['127.0.0.1 orders.test'], ttl: 60 });
    cleanups.push(() => dns.close());
    const { gw } = await fixture(`  dns: { servers: ["${dns.server}"], timeout: 500ms, tries: 2 }\n`, `{ dns: { name: orders.test, port: ${up.port}, family: ipv4 } }`);
    await waitFor(() => gw.gateway.runtime.upstreams.get('orders')!.targets.length === 1, { timeout: 5000, message: 'the DNS pool to fill' });
    const prev = gw.gateway.runtime.upstreams.get('orders')!;
    // Same pool name, another subject: the old set says nothing about it.
    const { writeFile: write } = await import('node:fs/promises');
    const file = gw.gateway.watchPaths().find((p) => p.path.endsWith('orders.yaml'))!.path;
    await write(file, `routes:\n  - { id: orders, match: { path: /orders/* }, upstream: orders }\nupstreams:\n  orders:\n    discover: { dns: { name: nothing.test, port: ${up.port}, family: ipv4 } }\n`);
    expect((await gw.gateway.reload()).ok).toBe(true);
    const next = gw.gateway.runtime.upstreams.get('orders')!;
    expect(next).not.toBe(prev);
    expect(next.targets).toEqual([]);
  }, 30000);
});
