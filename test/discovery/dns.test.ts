/**
 * The `dns` provider against a real DNS server (dnsmasq on a loopback port):
 * families, ports and schemes in the urls, re-resolving at the TTL, and the
 * answers that keep the last set — SERVFAIL, a dead resolver, NXDOMAIN.
 * RefreshPolicy, the pure timing part, is tested on its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefreshPolicy } from '../../src/discovery/dns-resolver.js';
import { DnsProvider, type DiscoveredInstance, type DnsProviderOptions } from '../../src/discovery/index.js';
import { waitFor } from '../../src/testing/index.js';
import { startDnsmasq, startServfail, type TestDnsmasq } from '../helpers/dnsmasq.js';
import { captureLog } from '../helpers/log-capture.js';
import { quiet, urls } from './helpers.js';

describe('RefreshPolicy', () => {
  it('follows the TTL within [minTtl, maxTtl]', () => {
    const p = new RefreshPolicy({ refreshMs: undefined, minTtlMs: 1000, maxTtlMs: 300_000 });
    expect(p.afterAnswer(30)).toBe(30_000);
    expect(p.afterAnswer(0)).toBe(1000);
    expect(p.afterAnswer(86_400)).toBe(300_000);
  });

  it('uses a fixed refresh when one is set', () => {
    const p = new RefreshPolicy({ refreshMs: 15_000, minTtlMs: 1000, maxTtlMs: 300_000 });
    expect(p.afterAnswer(1)).toBe(15_000);
    expect(p.afterAnswer(3600)).toBe(15_000);
  });

  it('backs off after failures from minTtl, doubling, up to the normal interval, and resets on an answer', () => {
    const p = new RefreshPolicy({ refreshMs: undefined, minTtlMs: 1000, maxTtlMs: 10_000 });
    expect([1, 2, 3, 4, 5, 6].map(() => p.afterFailure())).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    p.afterAnswer(5);
    expect(p.afterFailure()).toBe(1000);
    const fixed = new RefreshPolicy({ refreshMs: 3000, minTtlMs: 1000, maxTtlMs: 300_000 });
    expect([1, 2, 3].map(() => fixed.afterFailure())).toEqual([1000, 2000, 3000]);
  });
});

describe('DnsProvider against dnsmasq', () => {
  let dns: TestDnsmasq | undefined;
  let provider: DnsProvider | undefined;
  let sets: Array<readonly DiscoveredInstance[]>;
  afterEach(async () => {
    provider?.stop();
    provider = undefined;
    await dns?.close();
    dns = undefined;
  });

  const start = (servers: string[], over: Partial<DnsProviderOptions> = {}) => {
    sets = [];
    provider = new DnsProvider({
      name: 'orders.test',
      port: 8080,
      family: 'any',
      scheme: 'http',
      logger: quiet,
      dns: { servers, timeoutMs: 300, tries: 1 },
      refreshMs: undefined,
      minTtlMs: 20,
      maxTtlMs: 1000,
      ...over,
    });
    provider.start((s) => sets.push(s));
  };

  it.each([
    ['any', ['http://127.0.0.11:8080', 'http://[::1]:8080']],
    ['ipv4', ['http://127.0.0.11:8080']],
    ['ipv6', ['http://[::1]:8080']],
  ] as const)('family %s asks for the right records', async (family, expected) => {
    dns = await startDnsmasq({ hosts: ['127.0.0.11 orders.test', '::1 orders.test'] });
    start([dns.server], { family });
    await waitFor(() => sets.length > 0, { message: 'the first set' });
    expect(urls(sets[0])).toEqual(expected);
  });

  it('builds urls from the scheme and port, and names the TTL in the source', async () => {
    dns = await startDnsmasq({ hosts: ['127.0.0.11 orders.test'], ttl: 30 });
    start([dns.server], { scheme: 'https', port: 8443 });
    await waitFor(() => sets.length > 0, { message: 'the first set' });
    expect(sets[0]).toEqual([{ url: 'https://127.0.0.11:8443', weight: 1, status: 'up', source: 'dns orders.test TTL 30s' }]);
  });

  it('re-resolves at the TTL: a changed record reaches the pool without a fixed refresh', async () => {
    dns = await startDnsmasq({ hosts: ['127.0.0.11 orders.test'], ttl: 0 });
    start([dns.server], { family: 'ipv4' });
    await waitFor(() => sets.length > 0, { message: 'the first set' });
    await dns.setHosts(['127.0.0.12 orders.test']);
    await waitFor(() => sets.length > 1, { message: 'the changed set' });
    expect(urls(sets[1])).toEqual(['http://127.0.0.12:8080']);
  });

  it('keeps the last set on SERVFAIL, and recovers', async () => {
    // dnsmasq answers orders.svc.test from its hosts file while it is there, and forwards it to a server that answers SERVFAIL once it is not.
    const servfail = await startServfail();
    try {
      dns = await startDnsmasq({ hosts: ['127.0.0.11 orders.svc.test'], ttl: 0, conf: [`server=/svc.test/${servfail.server.replace(':', '#')}`] });
      start([dns.server], { name: 'orders.svc.test', family: 'ipv4' });
      await waitFor(() => sets.length > 0, { message: 'the first set' });
      await dns.setHosts([]);
      await waitFor(() => provider!.state().errors >= 2 || undefined, { message: 'two SERVFAILs' });
      expect(provider!.state().lastError).toMatch(/ESERVFAIL/);
      expect(servfail.queries).toBeGreaterThanOrEqual(2);
      expect(sets).toHaveLength(1);
      expect(provider!.state().instances).toBe(1);
      await dns.setHosts(['127.0.0.11 orders.svc.test']);
      await waitFor(() => provider!.state().lastError === undefined || undefined, { message: 'recovery' });
      expect(sets).toHaveLength(1); // the same set: nothing to report
    } finally {
      await servfail.close();
    }
  });

  it('keeps the last set while the resolver is down (ECONNREFUSED)', async () => {
    dns = await startDnsmasq({ hosts: ['127.0.0.11 orders.test'], ttl: 0 });
    start([dns.server], { family: 'ipv4' });
    await waitFor(() => sets.length > 0, { message: 'the first set' });
    await dns.stop();
    await waitFor(() => provider!.state().errors >= 2 || undefined, { message: 'two refused queries' });
    expect(provider!.state().lastError).toMatch(/ECONNREFUSED|ETIMEOUT/);
    expect(sets).toHaveLength(1);
  });

  it('keeps the last set when the name vanishes (NXDOMAIN), logging it once, and recovers', async () => {
    const log = captureLog();
    dns = await startDnsmasq({ hosts: ['127.0.0.11 orders.test'], ttl: 0 });
    start([dns.server], { family: 'ipv4', logger: log.logger });
    await waitFor(() => sets.length > 0, { message: 'the first set' });
    await dns.setHosts(['127.0.0.99 other.test']);
    await waitFor(() => provider!.state().errors >= 3 || undefined, { message: 'three NXDOMAIN answers' });
    expect(provider!.state().lastError).toMatch(/no A records for orders.test|ENOTFOUND|ENODATA/);
    expect(sets).toHaveLength(1);
    await dns.setHosts(['127.0.0.11 orders.test', '127.0.0.12 orders.test']);
    await waitFor(() => sets.length > 1, { message: 'the name back' });
    expect(urls(sets[1])).toEqual(['http://127.0.0.11:8080', 'http://127.0.0.12:8080']);
    expect(log.lines.filter((l) => l.msg.startsWith('discovery failing'))).toHaveLength(1);
  });
});
