/**
 * Prometheus metrics (prom-client), one registry per gateway so several can
 * run in one process (tests). The per-request series are plain cells
 * (series.ts) cached per label set, so a request costs a map lookup and a few
 * increments, not prom-client's label-hashing pass.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CounterSeries, HistogramSeries, type CounterCell, type HistogramCell } from './series.js';
import type { Exchange } from '../proxy/exchange.js';
import type { MetricsSink } from './observer.js';
import type { Runtime } from './runtime.js';

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const statusClass = (s: number) => CLASSES[Math.min(5, Math.floor(s / 100))] ?? '0xx';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Cells = { c: CounterCell; h: HistogramCell };

/** PromMetrics is the prom-client backed MetricsSink. */
export class PromMetrics implements MetricsSink {
  readonly registry = new Registry();
  private readonly requests = new CounterSeries('switchyard_requests_total', 'Requests served, by route, method and status class.', this.registry);
  private readonly latency = new HistogramSeries('switchyard_request_duration_seconds', 'Time from request to end of response, by route, method and status class.', BUCKETS, this.registry);
  private readonly upstreamRequests = new CounterSeries('switchyard_upstream_requests_total', 'Upstream attempts, by upstream, target and outcome.', this.registry);
  private readonly upstreamLatency = new HistogramSeries('switchyard_upstream_duration_seconds', 'Upstream attempt time until response end or failure, by upstream and target.', BUCKETS, this.registry);
  private readonly retries = new Counter({ name: 'switchyard_retries_total', help: 'Retried upstream attempts, by upstream.', labelNames: ['upstream'], registers: [this.registry] });
  private readonly events = new Counter({ name: 'switchyard_events_total', help: 'Gateway events: rate_limited, auth_rejected, ejection, health transitions, redis_error, config_reload.', labelNames: ['event', 'upstream', 'result', 'plugin'], registers: [this.registry] });
  /** series caches the cells of one label set: a request costs a map lookup and plain increments. */
  private readonly series = new Map<string, Cells>();
  /** latencyByTarget shares one upstream latency cell between a target's ok and error series. */
  private readonly latencyByTarget = new Map<string, HistogramCell>();

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
        for (const u of rt?.upstreams.values() ?? []) for (const t of u.targets) this.set({ upstream: u.name, target: t.id, state: t.state(now) }, t.eligible(now) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'switchyard_target_inflight',
      help: 'In-flight requests and open WebSockets, by upstream and target.',
      labelNames: ['upstream', 'target'],
      registers: [reg],
      collect() {
        this.reset();
        for (const u of runtime()?.upstreams.values() ?? []) for (const t of u.targets) this.set({ upstream: u.name, target: t.id }, t.inflight);
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
    collectDefaultMetrics({ register: reg, prefix: 'switchyard_' });
  }

  request(ex: Exchange, durationMs: number): void {
    this.record(ex.routeId, ex.method, ex.res.writableFinished ? ex.status : ex.status || 499, durationMs);
  }

  rejected(method: string, status: number, durationMs: number): void {
    // Requests refused before routing (400, 404, 414, 431) count under route "".
    this.record('', method, status, durationMs);
  }

  private record(route: string, method: string, status: number, durationMs: number): void {
    const cls = statusClass(status);
    const key = route + '\0' + method + '\0' + cls;
    let s = this.series.get(key);
    if (s === undefined) {
      const labels = { route, method, status_class: cls };
      s = { c: this.requests.cell(labels), h: this.latency.cell(labels) };
      this.series.set(key, s);
    }
    s.c.value++;
    this.latency.observe(s.h, durationMs / 1000);
  }

  attempt(upstream: string, target: string, ok: boolean, _status: number, ms: number): void {
    const key = 'u\0' + upstream + '\0' + target + '\0' + (ok ? 'ok' : 'error');
    let s = this.series.get(key);
    if (s === undefined) {
      const tkey = upstream + '\0' + target;
      let h = this.latencyByTarget.get(tkey);
      if (h === undefined) {
        h = this.upstreamLatency.cell({ upstream, target });
        this.latencyByTarget.set(tkey, h);
      }
      s = { c: this.upstreamRequests.cell({ upstream, target, outcome: ok ? 'ok' : 'error' }), h };
      this.series.set(key, s);
    }
    s.c.value++;
    this.upstreamLatency.observe(s.h, ms / 1000);
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
