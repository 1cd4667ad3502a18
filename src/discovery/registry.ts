/**
 * The `registry` provider: a pool filled from the gateway's own Eureka-compatible
 * registry. It asks nothing over the network: it reads the RegistrySource
 * when the registry says the application changed (register, cancel,
 * eviction, status or metadata), so an instance that registers is in the
 * pool within the same tick. Heartbeats change nothing here.
 *
 * The registry may be backed by Redis; a source that throws while reading
 * (the store down) is a failed refresh like any other: counted, logged once,
 * and the last set stays. It is read again at `retryMs` until it answers,
 * because no change event may come while the store is down.
 */
import type { Logger } from 'pino';
import { eurekaStatus, metadataWeight } from './eureka-json.js';
import type { DiscoveredInstance, DiscoveryListener, DiscoveryProvider, ProviderState, RegistryInstance, RegistrySource } from './provider.js';
import { errorText, SetReporter, systemClock, type Clock } from './report.js';

/** RegistryProviderOptions configure one pool's view of one registry application. */
export interface RegistryProviderOptions {
  source: RegistrySource;
  /** app is the application name (compared upper case, as Eureka stores it). */
  app: string;
  logger: Logger;
  clock?: Clock;
  /** retryMs is how soon a failed read is tried again (default 1000). */
  retryMs?: number;
}

/**
 * toInstance maps one registration to a discovered instance: the status after
 * overrides, the `weight` metadata (a positive integer up to 100, else 1; the
 * registration's own weight field when the metadata has none).
 */
export function toInstance(r: RegistryInstance, now: number): DiscoveredInstance {
  const age = Math.max(0, Math.round((now - r.lastRenewedAt) / 1000));
  const weight = metadataWeight(r.metadata.weight !== undefined ? r.metadata : { weight: r.weight });
  return { url: r.url, weight, status: eurekaStatus(r.status), source: `registry ${r.app} ${r.instanceId}, lease ${age}s` };
}

/** RegistryProvider watches one application of the gateway's registry. */
export class RegistryProvider implements DiscoveryProvider {
  private readonly app: string;
  private readonly reporter: SetReporter;
  private readonly clock: Clock;
  private readonly retryMs: number;
  private unsubscribe: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RegistryProviderOptions) {
    this.app = options.app.toUpperCase();
    this.clock = options.clock ?? systemClock;
    this.retryMs = options.retryMs ?? 1000;
    this.reporter = new SetReporter('registry', this.app, options.logger, this.clock);
  }

  /** start subscribes to the registry and reports the application's current set at once. */
  start(listener: DiscoveryListener): void {
    if (this.reporter.active) return;
    this.reporter.listen(listener);
    this.unsubscribe = this.options.source.onChange((app) => {
      if (app.toUpperCase() === this.app) this.read();
    });
    this.read();
  }

  /** stop unsubscribes and clears the retry timer; idempotent. */
  stop(): void {
    this.reporter.listen(undefined);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** state describes the provider now. */
  state(): ProviderState {
    return this.reporter.state();
  }

  private read(): void {
    if (!this.reporter.active) return;
    let registrations: readonly RegistryInstance[];
    try {
      registrations = this.options.source.instances(this.app);
    } catch (err) {
      this.reporter.fail(errorText(err));
      this.scheduleRetry();
      return;
    }
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const now = this.clock.now();
    this.reporter.succeed(registrations.map((r) => toInstance(r, now)));
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.read();
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
