/**
 * The `dns` provider: one target per A/AAAA address of a name, all on one
 * port, re-resolved when the records expire (their TTL clamped to
 * [minTtl, maxTtl]) or at a fixed interval.
 *
 * Failures keep the last set: SERVFAIL, a timeout, a refused or unreachable
 * resolver are DNS not answering. NXDOMAIN and NODATA are answers ("no such
 * name", "no addresses"), and still keep the last set, logged and counted as
 * failures: a name that vanishes is far more often a DNS mistake or a zone
 * reload caught half-way than a fleet that is truly gone, and an empty pool
 * answers 503 to everyone while a stale one keeps serving (health checks take
 * dead addresses out). To empty a pool on purpose, remove its route or point
 * the name at nothing reachable.
 */
import type { promises as dns } from 'node:dns';
import type { Logger } from 'pino';
import { NoAddressesError, originOf, resolveAddresses, type AddressFamily, type DnsOptions, type RefreshOptions } from './dns-resolver.js';
import type { DiscoveredInstance } from './provider.js';
import { SetReporter, systemClock, type Clock } from './report.js';
import { ResolvingProvider, type Lookup } from './resolving-provider.js';

/** DnsProviderOptions configure the A/AAAA lookup of one name. */
export interface DnsProviderOptions extends RefreshOptions {
  name: string;
  port: number;
  family: AddressFamily;
  /** scheme of the targets' urls (http or https). */
  scheme: string;
  logger: Logger;
  dns?: DnsOptions;
  clock?: Clock;
}

/** DnsProvider keeps a pool equal to a name's addresses. */
export class DnsProvider extends ResolvingProvider {
  constructor(private readonly options: DnsProviderOptions) {
    super(new SetReporter('dns', `${options.name}:${options.port}`, options.logger, options.clock ?? systemClock), options, options.dns);
  }

  /** lookup resolves the name's addresses: one instance each, on the configured port. */
  protected async lookup(resolver: dns.Resolver): Promise<Lookup> {
    const { name, port, family, scheme } = this.options;
    const records = await resolveAddresses(resolver, name, family);
    if (records.length === 0) throw new NoAddressesError(`${family === 'ipv4' ? 'A' : family === 'ipv6' ? 'AAAA' : 'A or AAAA'} records for ${name}`);
    const instances: DiscoveredInstance[] = records.map((r) => ({
      url: originOf(scheme, r.address, port),
      weight: 1,
      status: 'up',
      source: `dns ${name} TTL ${r.ttl}s`,
    }));
    return { instances, ttl: Math.min(...records.map((r) => r.ttl)) };
  }
}
