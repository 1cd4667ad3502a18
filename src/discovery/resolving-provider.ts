/**
 * What the two DNS providers (dns.ts, dns-srv.ts) share: a resolver of their
 * own (so stop() can cancel its queries), the refresh loop, the TTL policy and
 * the set bookkeeping. A subclass says only how one lookup turns into a set.
 */
import type { promises as dns } from 'node:dns';
import { createResolver, RefreshPolicy, SYSTEM_DNS, type DnsOptions, type RefreshOptions } from './dns-resolver.js';
import { Poller } from './poll.js';
import type { DiscoveredInstance, DiscoveryListener, DiscoveryProvider, ProviderState } from './provider.js';
import { errorText, SetReporter } from './report.js';

/** Lookup is one successful answer: the set, and the shortest TTL in it (seconds). */
export interface Lookup {
  instances: DiscoveredInstance[];
  ttl: number;
}

/** ResolvingProvider re-resolves at each TTL (or fixed refresh) and keeps the last set on failure. */
export abstract class ResolvingProvider implements DiscoveryProvider {
  private readonly poller: Poller;
  private readonly policy: RefreshPolicy;
  private resolver: dns.Resolver | undefined;

  constructor(
    private readonly reporter: SetReporter,
    private readonly refreshOptions: RefreshOptions,
    private readonly dnsOptions: DnsOptions | undefined,
  ) {
    this.policy = new RefreshPolicy(refreshOptions);
    this.poller = new Poller(
      (signal) => this.refresh(signal),
      (err) => this.reporter.fail(errorText(err)),
      refreshOptions.minTtlMs,
    );
  }

  /** lookup resolves once; it throws when DNS does not answer usefully (the last set stays). */
  protected abstract lookup(resolver: dns.Resolver): Promise<Lookup>;

  /** start resolves at once, then at each TTL (or refresh). */
  start(listener: DiscoveryListener): void {
    if (this.reporter.active) return;
    this.reporter.listen(listener);
    this.resolver = createResolver(this.dnsOptions ?? SYSTEM_DNS);
    this.poller.start();
  }

  /** stop ends resolving and cancels the queries in flight; idempotent. */
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

  /** refresh runs one lookup and returns the delay until the next. */
  private async refresh(signal: AbortSignal): Promise<number> {
    const resolver = this.resolver;
    if (resolver === undefined) return this.refreshOptions.minTtlMs;
    try {
      const found = await this.lookup(resolver);
      if (signal.aborted) return 0;
      this.reporter.succeed(found.instances);
      return this.policy.afterAnswer(found.ttl);
    } catch (err) {
      if (signal.aborted) return 0;
      this.reporter.fail(errorText(err));
      return this.policy.afterFailure();
    }
  }
}
