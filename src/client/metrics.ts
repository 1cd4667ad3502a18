/**
 * The client's metrics, registered on the caller's prom-client Registry
 * (the service's own /metrics then shows its east–west calls). Three
 * counters, labelled by application: calls by outcome, retries by reason,
 * ejections. Label values are bounded: statuses are three digits or a
 * catalog code, reasons are the short failure reasons of failure.ts.
 *
 * Without a registry the hooks are no-ops: nothing is counted, nothing is
 * allocated per call.
 */
import { Counter, type Registry } from 'prom-client';

/** ClientMetrics are the hooks the client calls; NO_METRICS does nothing. */
export interface ClientMetrics {
  /** request counts one finished call: `outcome` is the final status ("200") or the error code. */
  request(app: string, outcome: string): void;
  /** retry counts one retry, by the failure that caused it (`ECONNREFUSED`, `status 503`). */
  retry(app: string, reason: string): void;
  /** ejection counts one instance ejected by outlier detection. */
  ejection(app: string, instance: string): void;
}

/** NO_METRICS is the hooks of a client without a registry. */
export const NO_METRICS: ClientMetrics = { request() {}, retry() {}, ejection() {} };

/** isRegistry tells whether a value looks like a prom-client Registry (an application may bundle its own copy of prom-client, so instanceof is not used). */
export function isRegistry(v: unknown): v is Registry {
  const r = v as Partial<Registry> | null;
  return typeof r === 'object' && r !== null && typeof r.registerMetric === 'function' && typeof r.getSingleMetric === 'function' && typeof r.metrics === 'function';
}

/** counter returns the counter `name` of `registry`, creating it once (two clients on one registry share it). */
function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** promMetrics registers the client's counters on `registry`. */
export function promMetrics(registry: Registry): ClientMetrics {
  const requests = counter(registry, 'switchyard_client_requests_total', 'Calls made through switchyard-gateway/client, by application and final status or error code.', ['app', 'outcome']);
  const retries = counter(registry, 'switchyard_client_retries_total', 'Attempts repeated on another instance, by application and reason.', ['app', 'reason']);
  const ejections = counter(registry, 'switchyard_client_ejections_total', 'Instances ejected by outlier detection, by application.', ['app']);
  return {
    request: (app, outcome) => requests.inc({ app, outcome }),
    retry: (app, reason) => retries.inc({ app, reason }),
    ejection: (app) => ejections.inc({ app }),
  };
}
