/**
 * What the gateway tells the outside about each request: one access-log line
 * and the metrics. Both are fed from the same finish point, so they agree.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { Exchange } from '../proxy/exchange.js';
import type { AttemptOutcome } from '../proxy/forward.js';
import type { SpanCounters } from './otlp-exporter.js';
import type { SpanSink } from './server-span.js';
import type { Target } from '../upstream/target.js';
import { Traffic } from './traffic.js';

/** MetricsSink receives request and attempt outcomes (prom-client backed, or a no-op). */
export interface MetricsSink {
  request(ex: Exchange, durationMs: number): void;
  /** rejected counts a request refused before it matched a route (400, 404, 414, 431). */
  rejected(method: string, status: number, durationMs: number): void;
  attempt(upstream: string, target: string, outcome: AttemptOutcome, status: number, ms: number): void;
  retry(upstream: string): void;
  count(name: string, labels?: Record<string, string>): void;
  /** otlpSpans returns the OpenTelemetry export counters (the same cells on every call). */
  otlpSpans?(): SpanCounters;
}

/**
 * statusOf is the status a finished exchange is logged and counted with: the
 * one sent, or 499 (nginx's "client closed request") when the client went
 * away before any was.
 */
export function statusOf(ex: Exchange): number {
  return ex.status || 499;
}

/** NO_METRICS discards everything. */
export const NO_METRICS: MetricsSink = { request() {}, rejected() {}, attempt() {}, retry() {}, count() {} };

/** Observer turns finished exchanges into access-log lines and metrics. */
export class Observer {
  /** traffic holds cumulative per-route and per-upstream counts for the dashboard. */
  readonly traffic = new Traffic();
  /** spans receives finished requests for OpenTelemetry export (undefined = export off). */
  spans: SpanSink | undefined = undefined;
  /** seen counts requests finished or refused (the idle-memory watch reads it). */
  seen = 0;

  constructor(
    private readonly access: Logger | undefined,
    readonly metrics: MetricsSink,
  ) {}

  /** finished is called exactly once per exchange. */
  finished(ex: Exchange): void {
    this.seen++;
    const ms = ex.elapsedMs();
    this.metrics.request(ex, ms);
    const spans = this.spans;
    if (spans !== undefined) spans.finished(ex, ms);
    const status = statusOf(ex);
    this.traffic.record(ex.routeId, ex.upstream, status, ms);
    if (this.access === undefined) return;
    const bytes = ex.res.getHeader('content-length');
    this.access.info({
      reqId: ex.id,
      method: ex.method,
      path: ex.path,
      route: ex.routeId,
      upstream: ex.upstream,
      target: ex.target?.id,
      status,
      ms: Math.round(ms * 100) / 100,
      upstreamMs: Math.round(ex.upstreamMs * 100) / 100,
      attempts: ex.attempts,
      bytes: typeof bytes === 'string' ? Number(bytes) : bytes,
      ip: ex.clientIp,
      trace: ex.traceId,
      ...(ex.error !== undefined ? { err: errText(ex.error) } : {}),
    });
  }

  /** rejected logs and counts a request answered before routing. */
  rejected(method: string, path: string, status: number, id: string, ip: string, ms: number, req?: IncomingMessage, code?: ErrorCode): void {
    this.seen++;
    this.metrics.rejected(method, status, ms);
    this.traffic.unrouted(status, ms);
    // With export on, a refused request gets a span too, and its trace id goes in the log line like a routed request's
    // (pino leaves out an undefined field, as it does for finished()'s).
    const trace = this.spans !== undefined && req !== undefined && code !== undefined ? this.spans.rejected(req, path, status, id, ip, ms, code) : undefined;
    this.access?.info({ reqId: id, method, path, route: null, status, ms: Math.round(ms * 100) / 100, ip, trace });
  }

  /** attemptEnded records one upstream attempt. */
  attemptEnded(ex: Exchange, target: Target, outcome: AttemptOutcome, status: number, ms: number): void {
    this.metrics.attempt(ex.upstream, target.id, outcome, status, ms);
  }
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code ? `${err.name} ${code}: ${err.message}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
