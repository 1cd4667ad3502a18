/**
 * The registry's metric hooks: a small interface the gateway binds to
 * prom-client, so the registry depends on no metrics library. Counters are
 * pushed here as events happen; gauges are pulled from Registry.state() at
 * scrape time (a prom-client Gauge's collect()), so nothing is kept twice.
 * src/telemetry/registry-metrics.ts binds them; app labels are capped there
 * (limits.maxMetricApps):
 *
 *   switchyard_registry_instances{app,status}          gauge   state().apps[app][status]
 *   switchyard_registry_self_preservation_active       gauge   state().selfPreservation.active (0/1)
 *   switchyard_registry_renewals_total                 counter renewed()
 *   switchyard_registry_evictions_total{app}           counter evicted()
 *   switchyard_registry_registrations_total{app}       counter registered()
 *   switchyard_registry_cancellations_total{app}       counter cancelled()
 *   switchyard_registry_refused_total{reason}          counter refused()
 *   switchyard_registry_store_errors_total             counter storeError()
 */
import type { RefusalReason } from './registration.js';

/** RegistryRefusal is a refusal reason as the metric label carries it (registration refusals plus the ones the listener makes). */
export type RegistryRefusalReason = RefusalReason | 'not-acceptable' | 'not-found';

/** RegistryMetrics receives the registry's counter events; every method must be cheap and must not throw. */
export interface RegistryMetrics {
  /** renewed counts one accepted heartbeat. */
  renewed(): void;
  /** evicted counts instances this gateway evicted (once per instance across gateways). */
  evicted(app: string, count: number): void;
  /** registered counts one accepted registration (new or repeated). */
  registered(app: string): void;
  /** cancelled counts one graceful deregistration. */
  cancelled(app: string): void;
  /** refused counts a request refused with a 4xx, by reason. */
  refused(reason: RegistryRefusalReason): void;
  /** storeError counts a write or sync that failed because the store was unavailable. */
  storeError(): void;
}

/** NO_METRICS is the default: every hook does nothing. */
export const NO_METRICS: RegistryMetrics = Object.freeze({
  renewed: () => {},
  evicted: () => {},
  registered: () => {},
  cancelled: () => {},
  refused: () => {},
  storeError: () => {},
});

/** countingMetrics is a RegistryMetrics that keeps plain totals, for tests and the bench script. */
export function countingMetrics(): RegistryMetrics & { readonly totals: Record<string, number> } {
  const totals: Record<string, number> = {};
  const add = (k: string, n = 1) => (totals[k] = (totals[k] ?? 0) + n);
  return {
    totals,
    renewed: () => add('renewed'),
    evicted: (_app, n) => add('evicted', n),
    registered: () => add('registered'),
    cancelled: () => add('cancelled'),
    refused: (reason) => add(`refused:${reason}`),
    storeError: () => add('storeError'),
  };
}
