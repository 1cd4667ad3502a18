/**
 * `discover:` and `discovery.dns` as config (TypeBox schemas, validated the way
 * route files are: strict, defaults applied) and createProvider, which turns
 * a validated `discover:` into the provider it names.
 */
import { describe, expect, it } from 'vitest';
import { DiscoverSchema, DnsOptionsSchema, type DiscoverDoc } from '../../src/config/discover.js';
import { compileValidator } from '../../src/config/validate.js';
import { createProvider, DiscoveryConfigError, dnsOptionsFromDoc, DnsProvider, DnsSrvProvider, EurekaProvider, RegistryProvider } from '../../src/discovery/index.js';
import { FakeRegistry, quiet } from './helpers.js';

const validateDiscover = compileValidator(DiscoverSchema);
const validateDns = compileValidator(DnsOptionsSchema);
const source = { file: 'routes/orders.yaml', locate: () => ({ line: 1, col: 1 }) };

function discover(doc: Record<string, unknown>): { doc: DiscoverDoc; errors: string[] } {
  const copy = structuredClone(doc);
  const errors = validateDiscover(copy, source).map((e) => `${e.path}: ${e.message}`);
  return { doc: copy as DiscoverDoc, errors };
}

describe('DiscoverSchema', () => {
  it('applies the defaults of each provider', () => {
    expect(discover({ eureka: { url: 'http://eureka:8761/eureka', app: 'ORDERS' } }).doc).toEqual({
      eureka: { url: 'http://eureka:8761/eureka', app: 'ORDERS', refresh: '30s', timeout: '5s' },
      scheme: 'http',
    });
    expect(discover({ dns: { name: 'orders.internal', port: 8080 } }).doc).toEqual({
      dns: { name: 'orders.internal', port: 8080, refresh: 'ttl', minTtl: '1s', maxTtl: '5m', family: 'any' },
      scheme: 'http',
    });
    expect(discover({ dnsSrv: { name: '_http._tcp.orders.internal' }, scheme: 'https' }).doc).toEqual({
      dnsSrv: { name: '_http._tcp.orders.internal', refresh: 'ttl', minTtl: '1s', maxTtl: '5m' },
      scheme: 'https',
    });
    expect(discover({ registry: 'ORDERS' }).errors).toEqual([]);
  });

  it.each([
    ['none', { scheme: 'http' }],
    ['two', { registry: 'ORDERS', dns: { name: 'orders.internal' } }],
    ['an unknown key', { registry: 'ORDERS', consul: 'orders' }],
    ['an unknown provider field', { dns: { name: 'orders.internal', ttl: 5 } }],
    ['a bad refresh', { dns: { name: 'orders.internal', refresh: 'often' } }],
    ['a bad family', { dns: { name: 'orders.internal', family: 'ipv5' } }],
    ['a non-http eureka url', { eureka: { url: 'ftp://eureka', app: 'ORDERS' } }],
    ['a bad scheme', { registry: 'ORDERS', scheme: 'ws' }],
  ])('refuses %s', (_what, doc) => {
    expect(discover(doc).errors).not.toEqual([]);
  });

  it('accepts a fixed refresh for DNS', () => {
    expect(discover({ dns: { name: 'orders.internal', refresh: '10s' } }).errors).toEqual([]);
  });
});

describe('DnsOptionsSchema', () => {
  it('defaults to the system resolvers, 2s, 2 tries', () => {
    const doc = {};
    expect(validateDns(doc, source)).toEqual([]);
    expect(doc).toEqual({ servers: [], timeout: '2s', tries: 2 });
    expect(dnsOptionsFromDoc(doc as never)).toEqual({ servers: [], timeoutMs: 2000, tries: 2 });
  });

  it('takes ip:port servers and refuses names', () => {
    expect(validateDns({ servers: ['127.0.0.1:5353', '10.0.0.2', '[::1]:53'] }, source)).toEqual([]);
    expect(validateDns({ servers: ['dns.example.com'] }, source)).not.toEqual([]);
  });
});

describe('createProvider', () => {
  const deps = { logger: quiet, registry: new FakeRegistry() };

  it.each([
    [{ registry: 'ORDERS' }, RegistryProvider, 'registry'],
    [{ eureka: { url: 'http://eureka:8761/eureka', app: 'ORDERS' } }, EurekaProvider, 'eureka'],
    [{ dns: { name: 'orders.internal', port: 8080 } }, DnsProvider, 'dns'],
    [{ dnsSrv: { name: '_http._tcp.orders.internal' } }, DnsSrvProvider, 'dns-srv'],
  ] as const)('builds the provider %j names', (doc, klass, kind) => {
    const p = createProvider(discover(doc).doc, deps);
    expect(p).toBeInstanceOf(klass);
    expect(p.state()).toMatchObject({ kind, errors: 0, instances: 0, lastSuccessAt: 0 });
  });

  it('refuses `registry:` when the gateway runs no registry', () => {
    expect(() => createProvider(discover({ registry: 'ORDERS' }).doc, { logger: quiet })).toThrow(DiscoveryConfigError);
    expect(() => createProvider(discover({ registry: 'ORDERS' }).doc, { logger: quiet })).toThrow(/discovery\.registry/);
  });

  it('refuses a doc that names no provider', () => {
    expect(() => createProvider({ scheme: 'http' } as DiscoverDoc, deps)).toThrow(/exactly one of registry, eureka, dns, dnsSrv/);
  });
});
