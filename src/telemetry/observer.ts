/**
 * What the gateway tells the outside about each request: one access-log line
 * and the metrics. Both are fed from the same finish point, so they agree.
 */
import type { ErrorCode } from '../errors.js';
import type { Exchange } from '../proxy/exchange.js';
import type { AttemptEnd, AttemptOutcome, Refusal } from '../proxy/hooks.js';
import type { SpanCounters } from './otlp-exporter.js';
import type { StreamMetrics } from './stream-metrics.js';
import { NO_SPLIT_METRICS, SplitTraffic, type SplitMetrics } from './split-metrics.js';
import type { SpanSink } from './server-span.js';
import { unrouted, type AccessLog } from './access-log.js';
import { Traffic } from './traffic.js';
import { LineBudget } from './line-budget.js';
import { parseTraceparent, randomHex } from '../http/trace-context.js';

/** MetricsSink receives request and attempt outcomes (prom-client backed, or a no-op). */
export interface MetricsSink {
  request(ex: Exchange, durationMs: number): void;
  /** rejected counts a request refused before it matched a route (400, 404, 408, 414, 431), under route "". */
  rejected(method: string, status: number, durationMs: number): void;
  attempt(upstream: string, target: string, outcome: AttemptOutcome, status: number, ms: number): void;
  retry(upstream: string): void;
  count(name: string, labels?: Record<string, string>): void;
  /** otlpSpans returns the OpenTelemetry export counters (the same cells on every call). */
  otlpSpans?(): SpanCounters;
  /** streams returns the layer-4 stream metrics (the same object on every call). */
  streams?(): StreamMetrics;
  /** splits returns the canary split metrics (the same object on every call). */
  splits?(): SplitMetrics;
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
  /** splitTraffic holds per-route, per-leg counts and live rates of canary splits (admin /routes, dashboard). */
  readonly splitTraffic = new SplitTraffic();
  /** spans receives finished requests for OpenTelemetry export (undefined = export off). */
  spans: SpanSink | undefined = undefined;
  /** seen counts requests finished or refused (the idle-memory watch reads it). */
  seen = 0;

  /** refusals budgets the log lines of requests the HTTP/1 parser refused (a client can send those at will). */
  private readonly refusals: LineBudget;

  /** access is where access lines go (undefined = log.accessLog off; read once per request, set by useAccessLog). */
  private access: AccessLog | undefined;
  /** kept is the access log once built: a reload that turns the log back on reuses it. */
  private kept: AccessLog | undefined;

  /**
   * @param refusalLinesPerSecond returns log.refusalLinesPerSecond (read per refusal, so a reload applies).
   */
  constructor(
    access: AccessLog | undefined,
    readonly metrics: MetricsSink,
    refusalLinesPerSecond: () => number = () => 20,
  ) {
    this.access = this.kept = access;
    this.refusals = new LineBudget(refusalLinesPerSecond, (suppressed) => {
      this.access?.notice({ suppressed }, 'refused requests: access-log lines suppressed (log.refusalLinesPerSecond)');
    });
  }

  /**
   * useAccessLog applies log.accessLog, at start and on each reload: on,
   * with the log built before or by `make` (once); off, none. Lines already
   * deferred to the end of the turn are still written. Returns whether it
   * switched.
   */
  useAccessLog(on: boolean, make: () => AccessLog): boolean {
    if (on === (this.access !== undefined)) return false;
    this.access = on ? (this.kept ??= make()) : undefined;
    return true;
  }

  /** finished is called exactly once per exchange. */
  finished(ex: Exchange): void {
    this.seen++;
    const ms = ex.elapsedMs();
    this.metrics.request(ex, ms);
    const spans = this.spans;
    if (spans !== undefined) spans.finished(ex, ms);
    const status = statusOf(ex);
    this.traffic.record(ex.routeId, ex.upstream, status, ms);
    if (ex.split !== undefined) this.splitServed(ex.routeId, ex.split, status);
    if (this.access === undefined) return;
    // Every key of AccessRecord, in the line's order, as `unrouted` makes them too (undefined ones are left out of the line): one object shape for every record, nothing else allocated.
    this.access.write({
      reqId: ex.id,
      method: ex.method,
      path: ex.path,
      route: ex.routeId,
      upstream: ex.upstream,
      split: ex.split,
      target: ex.target?.id,
      status,
      ms: Math.round(ms * 100) / 100,
      upstreamMs: Math.round(ex.upstreamMs * 100) / 100,
      attempts: ex.attempts,
      bytes: ex.sent,
      ip: ex.clientIp,
      trace: ex.traceId,
      code: ex.code,
      plugin: ex.plugin,
      mirrored: ex.mirrored ? true : undefined,
      err: ex.error !== undefined ? errText(ex.error) : undefined,
    });
  }

  /**
   * rejected logs and counts a request answered before routing. `traced`
   * (tracing.enabled) gives the line a trace id: the incoming traceparent's
   * when valid, else a new one, as a routed request would have had.
   */
  rejected(r: Refusal, traced = false): void {
    this.seen++;
    this.metrics.rejected(r.method, r.status, r.ms);
    // With export on, a refused request gets a span too, and its trace id goes in the log line like a routed request's.
    let trace = this.spans !== undefined ? this.spans.rejected(r) : undefined;
    if (trace === undefined && traced) trace = parseTraceparent(r.req.headers.traceparent)?.traceId ?? randomHex(16);
    this.traffic.unrouted(r.status, r.ms);
    this.access?.write(unrouted(r.requestId, r.method, r.path, r.status, Math.round(r.ms * 100) / 100, r.ip, trace, r.code));
  }

  /**
   * refused logs and counts a request the HTTP/1 parser refused (client-error.ts):
   * counted like a request refused before routing (route ""), logged within
   * the refusal line budget.
   */
  refused(method: string, path: string, status: number, id: string, ip: string, code: ErrorCode, traced: boolean): void {
    this.seen++;
    this.metrics.rejected(method, status, 0);
    this.traffic.unrouted(status, 0);
    if (this.access === undefined) return;
    if (!this.refusals.take()) {
      this.metrics.count('access_log_suppressed');
      return;
    }
    this.access.write(unrouted(id, method, path, status, 0, ip, traced ? randomHex(16) : undefined, code));
  }

  /** splitServed counts a request of a split route under the leg that served it. */
  private splitServed(route: string, leg: string, status: number): void {
    this.splitTraffic.record(route, leg, status);
    (this.metrics.splits?.() ?? NO_SPLIT_METRICS).served(route, leg, status);
  }

  /** splitFallback counts a split request whose leg had no eligible target. */
  splitFallback(route: string, leg: string, to: string): void {
    this.splitTraffic.fallback(route, leg);
    (this.metrics.splits?.() ?? NO_SPLIT_METRICS).fallback(route, leg, to);
  }

  /** splitUnkeyed counts a split request without a cohort key. */
  splitUnkeyed(route: string): void {
    this.splitTraffic.unkeyed(route);
    (this.metrics.splits?.() ?? NO_SPLIT_METRICS).unkeyed(route);
  }

  /** attemptEnded records one upstream attempt. */
  attemptEnded(end: AttemptEnd): void {
    this.metrics.attempt(end.ex.upstream, end.target.id, end.outcome, end.status, end.ms);
  }
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code ? `${err.name} ${code}: ${err.message}` : `${err.name}: ${err.message}`;
  }
  return String(err);
}
