/**
 * Issue 15 config: an upstream takes exactly one of `targets` and `discover`,
 * and gateway.yaml takes `discovery: { registry, dns }` (defaults applied).
 */
import { describe, expect, it } from 'vitest';
import { loadErrors, loadValid } from './helpers.js';

const route = (upstream: string) => `routes:
  - id: orders
    match: { path: /orders/* }
    upstream: orders
upstreams:
  orders:
${upstream}`;

describe('15: targets or discover', () => {
  it('accepts discover without targets, with defaults applied', async () => {
    const c = await loadValid({ 'routes/a.yaml': route('    discover: { dns: { name: orders.internal } }\n') });
    const up = c.files[0]!.doc.upstreams!.orders!;
    expect(up.targets).toBeUndefined();
    expect(up.discover).toMatchObject({ scheme: 'http', dns: { name: 'orders.internal', port: 80, refresh: 'ttl', family: 'any' } });
  });

  it('still accepts targets alone', async () => {
    const c = await loadValid({ 'routes/a.yaml': route('    targets: [{ url: "http://127.0.0.1:9" }]\n') });
    expect(c.files[0]!.doc.upstreams!.orders!.targets).toHaveLength(1);
  });

  it('refuses an upstream with neither, at its file:line', async () => {
    const errors = await loadErrors({ 'routes/a.yaml': route('    balancer: random\n') });
    expect(errors.join('\n')).toMatch(/routes\/a\.yaml:6:\d+: upstreams\.orders: an upstream needs exactly one of targets or discover \(neither is set\)/);
  });

  it('refuses an upstream with both', async () => {
    const errors = await loadErrors({ 'routes/a.yaml': route('    targets: [{ url: "http://127.0.0.1:9" }]\n    discover: { registry: ORDERS }\n') });
    expect(errors.join('\n')).toMatch(/routes\/a\.yaml:6:\d+: upstreams\.orders: an upstream needs exactly one of targets or discover \(both are set\)/);
  });

  it('refuses a discover with two providers', async () => {
    const errors = await loadErrors({ 'routes/a.yaml': route('    discover: { registry: ORDERS, dns: { name: a.b } }\n') });
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('15: gateway.yaml discovery', () => {
  it('applies the registry and dns defaults', async () => {
    const c = await loadValid({ 'gateway.yaml': 'discovery:\n  registry: { listen: { port: 0 } }\n  dns: { servers: ["127.0.0.1:5353"] }\n' });
    expect(c.gateway.discovery?.registry).toMatchObject({ listen: { host: '127.0.0.1', port: 0 }, maxInstancesPerApp: 1000 });
    expect(c.gateway.discovery?.dns).toEqual({ servers: ['127.0.0.1:5353'], timeout: '2s', tries: 2 });
  });

  it('is optional', async () => {
    const c = await loadValid({});
    expect(c.gateway.discovery).toBeUndefined();
  });

  it('refuses an unknown key under discovery', async () => {
    const errors = await loadErrors({ 'gateway.yaml': 'discovery:\n  regsitry: {}\n' });
    expect(errors.join('\n')).toMatch(/gateway\.yaml:2/);
  });
});

describe('15: discovery.registry defaults inside unions', () => {
  it('fills a partial selfPreservation, and accepts false', async () => {
    const a = await loadValid({ 'gateway.yaml': 'discovery:\n  registry: { selfPreservation: { threshold: 0.5 } }\n' });
    expect(a.gateway.discovery?.registry?.selfPreservation).toEqual({ threshold: 0.5, window: '60s' });
    const b = await loadValid({ 'gateway.yaml': 'discovery:\n  registry: { selfPreservation: false }\n' });
    expect(b.gateway.discovery?.registry?.selfPreservation).toBe(false);
  });
});
