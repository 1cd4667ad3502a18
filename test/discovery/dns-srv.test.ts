/**
 * The `dnsSrv` provider against dnsmasq: the lowest priority group with
 * addresses, SRV weights as balancer weights, ports from the records, and a
 * changed SRV record set (dnsmasq restarted: it does not reread srv-host on
 * SIGHUP) reaching the pool.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { balancerWeights } from '../../src/discovery/dns-srv.js';
import { DnsSrvProvider, type DiscoveredInstance } from '../../src/discovery/index.js';
import { waitFor } from '../../src/testing/index.js';
import { startDnsmasq, type SrvRecord, type TestDnsmasq } from '../helpers/dnsmasq.js';
import { quiet } from './helpers.js';

describe('balancerWeights', () => {
  it.each([
    [[10, 0, 5], [10, 1, 5]],
    [[0, 0], [1, 1]],
    [[65535, 1000], [1000, 15]],
    [[2000, 1], [1000, 1]],
  ])('%j → %j', (srv, expected) => {
    expect(balancerWeights(srv)).toEqual(expected);
  });
});

const SRV = '_http._tcp.orders.test';
const rec = (target: string, port: number, priority: number, weight: number): SrvRecord => ({ name: SRV, target, port, priority, weight });

describe('DnsSrvProvider against dnsmasq', () => {
  let dns: TestDnsmasq | undefined;
  let provider: DnsSrvProvider | undefined;
  let sets: Array<readonly DiscoveredInstance[]>;
  afterEach(async () => {
    provider?.stop();
    provider = undefined;
    await dns?.close();
  });

  const start = async (hosts: string[], srv: SrvRecord[]) => {
    dns = await startDnsmasq({ hosts, srv, ttl: 0 });
    sets = [];
    provider = new DnsSrvProvider({ name: SRV, scheme: 'http', logger: quiet, dns: { servers: [dns.server], timeoutMs: 300, tries: 1 }, refreshMs: undefined, minTtlMs: 20, maxTtlMs: 1000 });
    provider.start((s) => sets.push(s));
    await waitFor(() => sets.length > 0, { message: 'the first set' });
  };
  const view = (s: readonly DiscoveredInstance[] | undefined) => (s ?? []).map((i) => `${i.url} w${i.weight}`);

  it('uses the lowest priority, its weights and its ports; the backup group stays out', async () => {
    await start(['127.0.0.21 a.test', '127.0.0.22 b.test', '127.0.0.23 c.test'], [rec('a.test', 8081, 0, 10), rec('b.test', 8082, 0, 0), rec('c.test', 8083, 1, 50)]);
    expect(view(sets[0])).toEqual(['http://127.0.0.21:8081 w10', 'http://127.0.0.22:8082 w1']);
    expect(sets[0]![0]!.source).toMatch(/^dns-srv _http\._tcp\.orders\.test → a\.test:8081 priority 0 weight 10, TTL 0s$/);
  });

  it('falls back to the next priority when the lowest one has no addresses', async () => {
    await start(['127.0.0.23 c.test'], [rec('gone.test', 8081, 0, 10), rec('c.test', 8083, 1, 50)]);
    expect(view(sets[0])).toEqual(['http://127.0.0.23:8083 w50']);
  });

  it('gives one target per address of a host with several', async () => {
    await start(['127.0.0.21 a.test', '127.0.0.31 a.test'], [rec('a.test', 8081, 0, 5)]);
    expect(view(sets[0])).toEqual(['http://127.0.0.21:8081 w5', 'http://127.0.0.31:8081 w5']);
  });

  it('follows a changed SRV record set and changed addresses', async () => {
    await start(['127.0.0.21 a.test', '127.0.0.22 b.test'], [rec('a.test', 8081, 0, 10)]);
    await dns!.setSrv([rec('a.test', 8081, 0, 10), rec('b.test', 9092, 0, 20)]);
    await waitFor(() => sets.length > 1, { message: 'the new SRV set' });
    expect(view(sets[1])).toEqual(['http://127.0.0.21:8081 w10', 'http://127.0.0.22:9092 w20']);
    await dns!.setHosts(['127.0.0.21 a.test', '127.0.0.42 b.test']);
    await waitFor(() => sets.length > 2, { message: 'the new address' });
    expect(view(sets[2])).toEqual(['http://127.0.0.21:8081 w10', 'http://127.0.0.42:9092 w20']);
  });

  it('keeps the last set when the SRV records disappear', async () => {
    await start(['127.0.0.21 a.test'], [rec('a.test', 8081, 0, 10)]);
    await dns!.setSrv([]);
    await waitFor(() => provider!.state().errors >= 2 || undefined, { message: 'two empty answers' });
    expect(provider!.state().lastError).toMatch(/ENOTFOUND|ENODATA|no SRV records/);
    expect(sets).toHaveLength(1);
  });
});
