/**
 * Shadow traffic metrics, pulled at scrape time from the counters each
 * route's mirror keeps (proxy/mirror-state.ts), so a copy pushes nothing:
 *
 *   switchyard_mirror_requests_total{route,upstream,result}   sampled requests by what became of them:
 *        sent, dropped (limits.mirrorConcurrency), over_limit (body over mirror.bodyLimit or streamed),
 *        unavailable (no eligible shadow target)
 *   switchyard_mirror_responses_total{route,upstream,result}  copies sent, by how they ended: ok (< 500), 5xx, error, timeout
 *   switchyard_mirror_duration_seconds{route,upstream}        copy time until the end of the shadow's answer or failure
 *   switchyard_mirror_inflight                                copies in flight (all routes)
 *
 * Counters carry over a reload while a route keeps its id and shadow pool.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Runtime } from '../proxy/runtime.js';
import { MIRROR_BUCKETS, type CompiledMirror } from '../proxy/mirror-state.js';

type Labels = { route: string; upstream: string };

/** eachMirror calls `f` with the labels and mirror of every mirroring route. */
function eachMirror(rt: Runtime | undefined, f: (labels: Labels, m: CompiledMirror) => void): void {
  for (const r of rt?.routes ?? []) if (r.mirror !== undefined) f({ route: r.id, upstream: r.mirror.upstream.name }, r.mirror);
}

/** registerMirrorMetrics adds the mirror series to `registry`, read from `runtime()` at each scrape. */
export function registerMirrorMetrics(registry: Registry, runtime: () => Runtime | undefined): void {
  const registers = [registry];
  const labelNames = ['route', 'upstream', 'result'];
  new Counter({
    name: 'switchyard_mirror_requests_total',
    help: 'Sampled requests of mirroring routes, by route, shadow upstream and result: sent, dropped (over limits.mirrorConcurrency), over_limit (body over mirror.bodyLimit or streamed), unavailable (no eligible shadow target).',
    labelNames,
    registers,
    collect() {
      this.reset();
      eachMirror(runtime(), (l, m) => {
        const s = m.stats;
        this.inc({ ...l, result: 'sent' }, s.sent);
        this.inc({ ...l, result: 'dropped' }, s.dropped);
        this.inc({ ...l, result: 'over_limit' }, s.overLimit);
        this.inc({ ...l, result: 'unavailable' }, s.unavailable);
      });
    },
  });
  new Counter({
    name: 'switchyard_mirror_responses_total',
    help: 'Shadow copies by how they ended: ok (status below 500), 5xx, error (no whole answer), timeout (cut by mirror.timeout), by route and shadow upstream.',
    labelNames,
    registers,
    collect() {
      this.reset();
      eachMirror(runtime(), (l, m) => {
        const s = m.stats;
        this.inc({ ...l, result: 'ok' }, s.ok);
        this.inc({ ...l, result: '5xx' }, s.shadow5xx);
        this.inc({ ...l, result: 'error' }, s.errors - s.timeouts);
        this.inc({ ...l, result: 'timeout' }, s.timeouts);
      });
    },
  });
  new Gauge({
    name: 'switchyard_mirror_inflight',
    help: 'Shadow copies in flight, all routes together (capped by limits.mirrorConcurrency).',
    registers,
    collect() {
      let n = 0;
      eachMirror(runtime(), (_l, m) => (n = m.gate.inflight));
      this.set(n);
    },
  });
  registry.registerMetric(new MirrorLatency(runtime) as never);
}

/**
 * MirrorLatency exports the routes' latency counts as a histogram in
 * prom-client's shape (as series.ts does for the request histograms): the
 * registry only calls get() and reset().
 */
class MirrorLatency {
  readonly name = 'switchyard_mirror_duration_seconds';
  readonly help = 'Shadow copy time until the end of its answer or its failure, by route and shadow upstream.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(private readonly runtime: () => Runtime | undefined) {}

  get(): Promise<unknown> {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    eachMirror(this.runtime(), (l, m) => {
      const h = m.stats.latency;
      let acc = 0;
      for (let i = 0; i < MIRROR_BUCKETS.length; i++) {
        acc += h.counts[i]!;
        values.push({ labels: { le: MIRROR_BUCKETS[i]!, ...l }, value: acc, metricName: this.name + '_bucket' });
      }
      values.push({ labels: { le: '+Inf', ...l }, value: h.count, metricName: this.name + '_bucket' });
      values.push({ labels: { ...l }, value: h.sum, metricName: this.name + '_sum' });
      values.push({ labels: { ...l }, value: h.count, metricName: this.name + '_count' });
    });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    // The counts belong to the routes' mirrors; a registry reset does not clear them.
  }
}
