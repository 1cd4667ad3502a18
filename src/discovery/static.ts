/**
 * The `static` provider: a fixed list of instances, given in code instead of
 * found in a registry. The client library uses it for `{ targets: ... }` and
 * for its `fallback`, so every pool it builds is fed by a DiscoveryProvider
 * and applied by one code path (Upstream.replaceTargets). Route files need
 * no such provider (their `targets:` are compiled directly), so it has no
 * `discover:` key.
 *
 * replace() swaps the list (a process that reads its instances from its own
 * config can feed changes in); the set is reported like any provider's:
 * sorted, only when it differs, and never emptied by an error (it has none).
 */
import type { Logger } from 'pino';
import type { DiscoveredInstance, DiscoveryListener, DiscoveryProvider, ProviderState } from './provider.js';
import { SetReporter, systemClock, type Clock } from './report.js';

/** StaticInstance is one configured instance: its url (scheme://host:port) and optional weight (default 1). */
export interface StaticInstance {
  readonly url: string;
  readonly weight?: number;
}

/** StaticProviderOptions configure one fixed list. */
export interface StaticProviderOptions {
  /** subject names the list in logs and state, e.g. the application name. */
  subject: string;
  instances: readonly StaticInstance[];
  logger: Logger;
  clock?: Clock;
}

/** toDiscovered turns configured instances into discovered ones: up, at their weight, sourced "static <subject>". */
function toDiscovered(subject: string, instances: readonly StaticInstance[]): DiscoveredInstance[] {
  return instances.map((i) => ({ url: new URL(i.url).origin, weight: i.weight ?? 1, status: 'up' as const, source: `static ${subject}` }));
}

/** StaticProvider reports a configured list of instances. */
export class StaticProvider implements DiscoveryProvider {
  private readonly reporter: SetReporter;
  private instances: DiscoveredInstance[];
  private pending: ReturnType<typeof setImmediate> | undefined;

  constructor(private readonly options: StaticProviderOptions) {
    this.instances = toDiscovered(options.subject, options.instances);
    this.reporter = new SetReporter('static', options.subject, options.logger, options.clock ?? systemClock);
  }

  /** start reports the list on the next turn of the event loop (never inside start(), like the providers that ask a source). */
  start(listener: DiscoveryListener): void {
    if (this.reporter.active) return;
    this.reporter.listen(listener);
    this.schedule();
  }

  /** stop drops the listener and a report not yet made; idempotent. */
  stop(): void {
    this.reporter.listen(undefined);
    if (this.pending !== undefined) clearImmediate(this.pending);
    this.pending = undefined;
  }

  /** state describes the provider now. */
  state(): ProviderState {
    return this.reporter.state();
  }

  /** replace swaps the configured list; a started provider reports it when it differs. */
  replace(instances: readonly StaticInstance[]): void {
    this.instances = toDiscovered(this.options.subject, instances);
    if (this.reporter.active) this.schedule();
  }

  private schedule(): void {
    if (this.pending !== undefined) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.reporter.succeed(this.instances);
    });
  }
}
