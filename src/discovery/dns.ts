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
import { createResolver, NoAddressesError, originOf, RefreshPolicy, resolveAddresses, SYSTEM_DNS, type AddressFamily, type DnsOptions, type RefreshOptions } from './dns-resolver.js';
import { Poller } from './poll.js';
import type { DiscoveredInstance, DiscoveryListener, DiscoveryProvider, ProviderState } from './provider.js';
import { errorText, SetReporter, systemClock, type Clock } from './report.js';

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
export class DnsProvider implements DiscoveryProvider {
  private readonly reporter: SetReporter;
  private readonly poller: Poller;
  private readonly policy: RefreshPolicy;
  private resolver: dns.Resolver | undefined;

  constructor(private readonly options: DnsProviderOptions) {
    this.reporter = new SetReporter('dns', `${options.name}:${options.port}`, options.logger, options.clock ?? systemClock);
    this.policy = new RefreshPolicy(options);
    this.poller = new Poller(
      (signal) => this.refresh(signal),
      (err) => this.reporter.fail(errorText(err)),
      options.minTtlMs,
    );
  }

  /** start resolves at once, then at each TTL (or refresh). */
  start(listener: DiscoveryListener): void {
    if (this.reporter.active) return;
    this.reporter.listen(listener);
    this.resolver = createResolver(this.options.dns ?? SYSTEM_DNS);
    this.poller.start();
  }

  /** stop ends resolving and cancels the query in flight; idempotent. */
  stop(): void {
    this.reporter.listen(undefined);
    this.poller.stop();
    this.resolver?.cancel();
    this.resolver = undefined;
  }

  /** state describes the provider now. */
  state(): ProviderState {
    return this.reporter.state();
  }

  private async refresh(signal: AbortSignal): Promise<number> {
    const resolver = this.resolver;
    if (resolver === undefined) return this.options.minTtlMs;
    const { name, port, family, scheme } = this.options;
    try {
      const records = await resolveAddresses(resolver, name, family);
      if (signal.aborted) return 0;
      if (records.length === 0) throw new NoAddressesError(`${family === 'ipv4' ? 'A' : family === 'ipv6' ? 'AAAA' : 'A or AAAA'} records for ${name}`);
      const ttl = Math.min(...records.map((r) => r.ttl));
      const instances: DiscoveredInstance[] = records.map((r) => ({
        url: originOf(scheme, r.address, port),
        weight: 1,
        status: 'up',
        source: `dns ${name} TTL ${r.ttl}s`,
      }));
      this.reporter.succeed(instances);
      return this.policy.afterAnswer(ttl);
    } catch (err) {
      if (signal.aborted) return 0;
      this.reporter.fail(errorText(err));
      return this.policy.afterFailure();
    }
  }
}
