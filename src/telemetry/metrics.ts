/**
 * Prometheus metrics (prom-client), one registry per gateway so several can
 * run in one process (tests). The per-request series are plain cells
 * (series.ts) cached per label set, so a request costs a few map lookups and
 * increments, not prom-client's label-hashing pass.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CounterSeries, HistogramSeries, type CounterCell, type HistogramCell } from './series.js';
import type { Exchange } from '../proxy/exchange.js';
import type { AttemptOutcome } from '../proxy/hooks.js';
import { statusOf, type MetricsSink } from './observer.js';
import type { SpanCounters } from './otlp-exporter.js';
import { promStreamMetrics, type StreamMetrics } from './stream-metrics.js';
import { promSplitMetrics, type SplitMetrics } from './split-metrics.js';
import { pools, type Runtime } from '../proxy/runtime.js';
import { registerDiscoveryMetrics } from './discovery-metrics.js';
import { registerMirrorMetrics } from './mirror-metrics.js';

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
/** classIndex maps a status to its index in CLASSES (anything below 100 is 0xx, above 599 is 5xx). */
const classIndex = (s: number) => (s < 100 ? 0 : Math.min(5, (s / 100) | 0));

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Cells = { c: CounterCell; h: HistogramCell };
type TargetCells = { h: HistogramCell; ok: CounterCell | undefined; error: CounterCell | undefined; aborted: CounterCell | undefined };

/** PromMetrics is the prom-client backed MetricsSink. */
export class PromMetrics implements MetricsSink {
  readonly registry = new Registry();
  private readonly requests = new CounterSeries('switchyard_requests_total', 'Requests served, by route, method and status class.', this.registry);
  private readonly latency = new HistogramSeries('switchyard_request_duration_seconds', 'Time from request to end of response, by route, method and status class.', BUCKETS, this.registry);
  private readonly upstreamRequests = new CounterSeries('switchyard_upstream_requests_total', 'Upstream attempts, by upstream, target and outcome (ok, error, or aborted: the client went away first).', this.registry);
  private readonly upstreamLatency = new HistogramSeries('switchyard_upstream_duration_seconds', 'Upstream attempt time until response end or failure, by upstream and target.', BUCKETS, this.registry);
  private readonly retries = new Counter({ name: 'switchyard_retries_total', help: 'Retried upstream attempts, by upstream.', labelNames: ['upstream'], registers: [this.registry] });
  private readonly events = new Counter({ name: 'switchyard_events_total', help: 'Gateway events: rate_limited, auth_rejected, ejection, health transitions, redis_error, config_reload, websocket_origin_rejected, connection_dropped, send_timeout, access_log_suppressed, proxy_protocol_refused.', labelNames: ['event', 'upstream', 'result', 'plugin'], registers: [this.registry] });
  /**
   * Cells cached per label set, in nested maps keyed by the label strings
   * themselves: those are long-lived (route ids, target ids) and keep their
   * hash, where a concatenated key would be built and hashed per request.
   */
  private readonly byRoute = new Map<string, Map<string, (Cells | undefined)[]>>();
  /** byTarget[upstream][target] holds the ok and error cells, which share one latency cell. */
  private readonly byTarget = new Map<string, Map<string, TargetCells>>();
  /** spans are the OpenTelemetry export counters, registered when an exporter first asks (no series without export). */
  private spans: SpanCounters | undefined = undefined;
  private streamMetrics: StreamMetrics | undefined = undefined;
  private splitMetrics: SplitMetrics | undefined = undefined;

  constructor(runtime: () => Runtime | undefined) {
    const reg = this.registry;
    new Gauge({
      name: 'switchyard_target_healthy',
      help: '1 when the target is in the rotation, by upstream and target.',
      labelNames: ['upstream', 'target', 'state'],
      registers: [reg],
      // Cluster mode: 1 only when every worker has the target in its rotation.
      aggregator: 'min',
      collect() {
        this.reset();
        const rt = runtime();
        const now = Date.now();
        for (const u of rt ? pools(rt) : []) for (const t of u.targets) this.set({ upstream: u.name, target: t.id, state: t.state(now) }, t.eligible(now) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'switchyard_target_inflight',
      help: 'In-flight requests and open WebSockets, by upstream and target.',
      labelNames: ['upstream', 'target'],
      registers: [reg],
      collect() {
        this.reset();
        const rt = runtime();
        for (const u of rt ? pools(rt) : []) for (const t of u.targets) this.set({ upstream: u.name, target: t.id }, t.inflight);
      },
    });
    new Gauge({
      name: 'switchyard_config_version',
      help: 'The active configuration version.',
      registers: [reg],
      // Cluster mode: the oldest version any worker still serves.
      aggregator: 'min',
      collect() {
        this.set(runtime()?.version ?? 0);
      },
    });
    registerDiscoveryMetrics(reg, runtime);
    registerMirrorMetrics(reg, runtime);
    collectDefaultMetrics({ register: reg, prefix: 'switchyard_' });
  }

  request(ex: Exchange, durationMs: number): void {
    this.record(ex.routeId, ex.method, statusOf(ex), durationMs);
  }

  rejected(method: string, status: number, durationMs: number): void {
    // Requests refused before routing (400, 404, 414, 431) count under route "".
    this.record('', method, status, durationMs);
  }

  private record(route: string, method: string, status: number, durationMs: number): void {
    const ci = classIndex(status);
    let methods = this.byRoute.get(route);
    if (methods === undefined) this.byRoute.set(route, (methods = new Map()));
    let classes = methods.get(method);
    if (classes === undefined) methods.set(method, (classes = []));
    let s = classes[ci];
    if (s === undefined) {
      const labels = { route, method, status_class: CLASSES[ci]! };
      s = classes[ci] = { c: this.requests.cell(labels), h: this.latency.cell(labels) };
    }
    s.c.value++;
    this.latency.observe(s.h, durationMs / 1000);
  }

  attempt(upstream: string, target: string, outcome: AttemptOutcome, _status: number, ms: number): void {
    let targets = this.byTarget.get(upstream);
    if (targets === undefined) this.byTarget.set(upstream, (targets = new Map()));
    let t = targets.get(target);
    if (t === undefined) targets.set(target, (t = { h: this.upstreamLatency.cell({ upstream, target }), ok: undefined, error: undefined, aborted: undefined }));
    // Counter series appear on first use, as prom-client's do (no zero error series for a target that never failed).
    const c = (t[outcome] ??= this.upstreamRequests.cell({ upstream, target, outcome }));
    c.value++;
    this.upstreamLatency.observe(t.h, ms / 1000);
  }

  otlpSpans(): SpanCounters {
    if (this.spans === undefined) {
      const series = new CounterSeries('switchyard_otlp_spans_total', 'OpenTelemetry spans, by result: exported, or dropped (reason: queue_full, export_failed, rejected by the collector).', this.registry);
      this.spans = {
        exported: series.cell({ result: 'exported', reason: '' }),
        queueFull: series.cell({ result: 'dropped', reason: 'queue_full' }),
        exportFailed: series.cell({ result: 'dropped', reason: 'export_failed' }),
        rejected: series.cell({ result: 'dropped', reason: 'rejected' }),
      };
    }
    return this.spans;
  }

  /** streams registers the stream series on first use (a gateway without streams exports none). */
  streams(): StreamMetrics {
    this.streamMetrics ??= promStreamMetrics(this.registry);
    return this.streamMetrics;
  }

  /** splits registers the split series on first use (a gateway without splits exports none). */
  splits(): SplitMetrics {
    this.splitMetrics ??= promSplitMetrics(this.registry);
    return this.splitMetrics;
  }

  retry(upstream: string): void {
    this.retries.inc({ upstream });
  }

  count(name: string, labels: Record<string, string> = {}): void {
    this.events.inc({ event: name, upstream: labels.upstream ?? '', result: labels.result ?? '', plugin: labels.plugin ?? '' });
  }

  /** text renders the exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
