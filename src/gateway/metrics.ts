/**
 * Prometheus metrics (prom-client), one registry per gateway so several can
 * run in one process (tests). Label children are cached per label set, so a
 * request costs a map lookup and two increments, not a label-hashing pass.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Exchange } from '../proxy/exchange.js';
import type { MetricsSink } from './observer.js';
import type { Runtime } from './runtime.js';

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const statusClass = (s: number) => CLASSES[Math.min(5, Math.floor(s / 100))] ?? '0xx';

type Child = { inc(v?: number): void };
type HChild = { observe(v: number): void };

/** PromMetrics is the prom-client backed MetricsSink. */
export class PromMetrics implements MetricsSink {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'switchyard_requests_total', help: 'Requests served, by route, method and status class.', labelNames: ['route', 'method', 'status_class'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'switchyard_request_duration_seconds',
    help: 'Time from request to end of response, by route, method and status class.',
    labelNames: ['route', 'method', 'status_class'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly upstreamRequests = new Counter({ name: 'switchyard_upstream_requests_total', help: 'Upstream attempts, by upstream, target and outcome.', labelNames: ['upstream', 'target', 'outcome'], registers: [this.registry] });
  private readonly upstreamLatency = new Histogram({
    name: 'switchyard_upstream_duration_seconds',
    help: 'Upstream attempt time until response end or failure, by upstream and target.',
    labelNames: ['upstream', 'target'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly retries = new Counter({ name: 'switchyard_retries_total', help: 'Retried upstream attempts, by upstream.', labelNames: ['upstream'], registers: [this.registry] });
  private readonly events = new Counter({ name: 'switchyard_events_total', help: 'Gateway events: rate_limited, auth_rejected, ejection, health transitions, redis_error, config_reload.', labelNames: ['event', 'upstream', 'result', 'plugin'], registers: [this.registry] });
  private readonly cache = new Map<string, Child>();
  private readonly hcache = new Map<string, HChild>();

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
    let c = this.cache.get(key);
    let h = this.hcache.get(key);
    if (c === undefined || h === undefined) {
      const labels = { route, method, status_class: cls };
      c = this.requests.labels(labels);
      h = this.latency.labels(labels);
      this.cache.set(key, c);
      this.hcache.set(key, h);
    }
    c.inc();
    h.observe(durationMs / 1000);
  }

  attempt(upstream: string, target: string, ok: boolean, _status: number, ms: number): void {
    const key = 'u\0' + upstream + '\0' + target + '\0' + (ok ? 'ok' : 'error');
    let c = this.cache.get(key);
    let h = this.hcache.get(key);
    if (c === undefined || h === undefined) {
      c = this.upstreamRequests.labels({ upstream, target, outcome: ok ? 'ok' : 'error' });
      h = this.upstreamLatency.labels({ upstream, target });
      this.cache.set(key, c);
      this.hcache.set(key, h);
    }
    c.inc();
    h.observe(ms / 1000);
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
