/**
 * The `dnsSrv` provider: a pool from SRV records (`_http._tcp.orders.internal`),
 * each giving a host, a port, a priority and a weight.
 *
 * - Priority: only the lowest priority group that has reachable targets is
 *   the pool (RFC 2782: higher numbers are backups). A group whose hosts all
 *   have no addresses is skipped for the next one.
 * - Weight: the SRV weight becomes the balancer weight. 0 means "very rarely"
 *   in RFC 2782, which a balancer weight cannot say, so it becomes 1; weights
 *   above 1000 (the balancers' maximum) are scaled down in proportion.
 * - Addresses: each SRV host is resolved to its A/AAAA records here and the
 *   url holds the address, not the host name: the pool's connections then
 *   dial exactly what the configured resolver (`discovery.dns.servers`)
 *   answered, not what the system resolver would. So `hostHeader: target`
 *   sends the address, and https pools need `tls.servername`.
 * - Refresh in `ttl` mode follows the shortest TTL of those address records:
 *   node:dns does not expose the TTL of SRV records themselves.
 * - Failures keep the last set, as in dns.ts (including "no such name").
 */
import type { promises as dns } from 'node:dns';
import type { Logger } from 'pino';
import { NoAddressesError, originOf, resolveAddresses, type AddressRecord, type DnsOptions, type RefreshOptions } from './dns-resolver.js';
import type { DiscoveredInstance } from './provider.js';
import { SetReporter, systemClock, type Clock } from './report.js';
import { ResolvingProvider, type Lookup } from './resolving-provider.js';

/** DnsSrvProviderOptions configure the SRV lookup of one name. */
export interface DnsSrvProviderOptions extends RefreshOptions {
  name: string;
  scheme: string;
  logger: Logger;
  dns?: DnsOptions;
  clock?: Clock;
}

/** MAX_BALANCER_WEIGHT is the largest weight a target may have (the schema's maximum). */
const MAX_BALANCER_WEIGHT = 1000;

/** balancerWeights maps SRV weights to balancer weights: 0 → 1, proportional when any exceeds 1000. */
export function balancerWeights(srv: readonly number[]): number[] {
  const max = Math.max(0, ...srv);
  const scale = max > MAX_BALANCER_WEIGHT ? MAX_BALANCER_WEIGHT / max : 1;
  return srv.map((w) => Math.max(1, Math.round(w * scale)));
}

/** DnsSrvProvider keeps a pool equal to the lowest usable priority of a name's SRV records. */
export class DnsSrvProvider extends ResolvingProvider {
  constructor(private readonly options: DnsSrvProviderOptions) {
    super(new SetReporter('dns-srv', options.name, options.logger, options.clock ?? systemClock), options, options.dns);
  }

  /** lookup resolves the SRV records, then the hosts of one priority group after another until one has addresses. */
  protected async lookup(resolver: dns.Resolver): Promise<Lookup> {
    const { name, scheme } = this.options;
    // An SRV target of "." says the service is decidedly not available there (RFC 2782).
    const records = (await resolver.resolveSrv(name)).filter((r) => r.name !== '' && r.name !== '.');
    const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
    for (const priority of priorities) {
      const group = records.filter((r) => r.priority === priority);
      // Each host once, even when it serves several ports; transient failures throw (a half group would drop targets).
      const hosts = [...new Set(group.map((r) => r.name))];
      const answers = await Promise.all(hosts.map((h) => resolveAddresses(resolver, h, 'any')));
      const byHost = new Map<string, AddressRecord[]>(hosts.map((h, i) => [h, answers[i]!]));
      const weights = balancerWeights(group.map((r) => r.weight));
      const instances: DiscoveredInstance[] = [];
      let ttl = Infinity;
      group.forEach((r, i) => {
        for (const a of byHost.get(r.name) ?? []) {
          ttl = Math.min(ttl, a.ttl);
          instances.push({
            url: originOf(scheme, a.address, r.port),
            weight: weights[i]!,
            status: 'up',
            source: `dns-srv ${name} → ${r.name}:${r.port} priority ${r.priority} weight ${r.weight}, TTL ${a.ttl}s`,
          });
        }
      });
      if (instances.length > 0) return { instances, ttl };
    }
    throw new NoAddressesError(records.length === 0 ? `SRV records for ${name}` : `addresses for the SRV targets of ${name}`);
  }
}
