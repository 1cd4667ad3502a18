/**
 * The service registry's metrics on prom-client: binds the registry's metric
 * hooks (src/registry/metrics.ts) to the gateway's metrics registry. Counters
 * are pushed as events happen; the instance gauge and the self-preservation
 * gauge are pulled from the registry's state() at scrape time, so nothing is
 * kept twice.
 *
 * The app label is client-controlled (any client may register any name), so
 * its values are capped: the first `maxApps` application names seen get their
 * own series, every later one is summed under app="_other". The set of named
 * apps never shrinks, so a series keeps its meaning for the process' life.
 *
 * Telemetry sits beside the registry in the layers, so the shapes it reads
 * are declared here structurally; the registry's own types satisfy them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** OTHER_APP is the app label value every application beyond the cap is counted under. */
export const OTHER_APP = '_other';

/** RegistryStateView is the part of the registry's state() the gauges read. */
export interface RegistryStateView {
  readonly apps: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly selfPreservation: { readonly active: boolean };
}

/** RegistryMetricHooks mirrors the registry's RegistryMetrics interface (every method cheap, never throws). */
export interface RegistryMetricHooks {
  renewed(): void;
  evicted(app: string, count: number): void;
  registered(app: string): void;
  cancelled(app: string): void;
  refused(reason: string): void;
  storeError(): void;
}

/** AppLabels hands out app label values under a cap: the first `max` names keep theirs, the rest share OTHER_APP. */
export class AppLabels {
  private readonly named = new Set<string>();
  constructor(private readonly max: number) {}

  /** of returns the label value for an application name. */
  of(app: string): string {
    if (this.named.has(app)) return app;
    if (this.named.size < this.max) {
      this.named.add(app);
      return app;
    }
    return OTHER_APP;
  }
}

/** RegistryMetricsOptions binds the registry's metrics. */
export interface RegistryMetricsOptions {
  /** registry is the gateway's prom-client registry (served at /metrics). */
  readonly registry: Registry;
  /** state reads the running registry's state; undefined while it has not started. */
  readonly state: () => RegistryStateView | undefined;
  /** maxApps is discovery.registry.limits.maxMetricApps. */
  readonly maxApps: number;
}

/** promRegistryMetrics registers the registry's series and returns the hooks the registry pushes its events to. */
export function promRegistryMetrics(o: RegistryMetricsOptions): RegistryMetricHooks {
  const registers = [o.registry];
  const labels = new AppLabels(o.maxApps);
  new Gauge({
    name: 'switchyard_registry_instances',
    help: `Instances in the service registry, by application and (effective) Eureka status; applications beyond limits.maxMetricApps are summed under app="${OTHER_APP}".`,
    labelNames: ['app', 'status'],
    registers,
    // Cluster mode: every worker reads the same registry (shared store), so any one worker's count is the count.
    aggregator: 'max',
    collect() {
      this.reset();
      const apps = o.state()?.apps ?? {};
      const sums = new Map<string, Map<string, number>>();
      for (const [app, byStatus] of Object.entries(apps)) {
        const label = labels.of(app);
        let statuses = sums.get(label);
        if (statuses === undefined) sums.set(label, (statuses = new Map()));
        for (const [status, n] of Object.entries(byStatus)) statuses.set(status, (statuses.get(status) ?? 0) + n);
      }
      for (const [app, statuses] of sums) for (const [status, n] of statuses) this.set({ app, status }, n);
    },
  });
  new Gauge({
    name: 'switchyard_registry_self_preservation_active',
    help: '1 while the registry has suspended eviction because renewals fell below the self-preservation threshold.',
    registers,
    aggregator: 'max',
    collect() {
      this.set(o.state()?.selfPreservation.active ? 1 : 0);
    },
  });
  const renewals = new Counter({ name: 'switchyard_registry_renewals_total', help: 'Heartbeats (lease renewals) the registry accepted.', registers });
  const registrations = new Counter({ name: 'switchyard_registry_registrations_total', help: 'Registrations the registry accepted (new or repeated), by application.', labelNames: ['app'], registers });
  const cancellations = new Counter({ name: 'switchyard_registry_cancellations_total', help: 'Graceful deregistrations, by application.', labelNames: ['app'], registers });
  const evictions = new Counter({ name: 'switchyard_registry_evictions_total', help: 'Instances evicted after their lease expired, by application (counted once across gateways sharing a store).', labelNames: ['app'], registers });
  const refused = new Counter({ name: 'switchyard_registry_refused_total', help: 'Registry requests refused with a 4xx, by reason.', labelNames: ['reason'], registers });
  const storeErrors = new Counter({ name: 'switchyard_registry_store_errors_total', help: 'Registry writes or syncs that failed because the shared store was unavailable.', registers });
  return {
    renewed: () => renewals.inc(),
    evicted: (app, n) => evictions.inc({ app: labels.of(app) }, n),
    registered: (app) => registrations.inc({ app: labels.of(app) }),
    cancelled: (app) => cancellations.inc({ app: labels.of(app) }),
    // Reasons are the registry's own fixed set, not client text.
    refused: (reason) => refused.inc({ reason }),
    storeError: () => storeErrors.inc(),
  };
}
