/**
 * Discovery provider metrics, pulled at scrape time from the providers of the
 * running configuration's `discover:` pools (each provider keeps its own
 * state(): set size, failed refreshes, last good answer), so the request path
 * and the providers push nothing:
 *
 *   switchyard_discovery_instances{upstream,provider}                 instances in the last reported set
 *   switchyard_discovery_errors_total{upstream,provider}              failed refreshes (a provider rebuilt by a reload starts again at 0)
 *   switchyard_discovery_last_success_age_seconds{upstream,provider}  time since the last good answer (-1 = none yet)
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { pools, type Runtime } from '../proxy/runtime.js';
import type { ProviderState } from '../discovery/provider.js';

/** eachProvider calls `f` with the labels and state of every discovered pool's provider. */
function eachProvider(rt: Runtime | undefined, f: (labels: { upstream: string; provider: string }, s: ProviderState) => void): void {
  for (const u of rt ? pools(rt) : []) {
    const d = u.discovery;
    if (d === undefined) continue;
    const s = d.provider.state();
    f({ upstream: u.name, provider: s.kind }, s);
  }
}

/** registerDiscoveryMetrics adds the discovery series to `registry`, read from `runtime()` at each scrape. */
export function registerDiscoveryMetrics(registry: Registry, runtime: () => Runtime | undefined): void {
  const registers = [registry];
  const labelNames = ['upstream', 'provider'];
  new Gauge({
    name: 'switchyard_discovery_instances',
    help: 'Instances in the last set a discovery provider reported, by upstream and provider.',
    labelNames,
    registers,
    aggregator: 'max',
    collect() {
      this.reset();
      eachProvider(runtime(), (labels, s) => this.set(labels, s.instances));
    },
  });
  new Counter({
    name: 'switchyard_discovery_errors_total',
    help: 'Failed discovery refreshes (source unreachable, DNS SERVFAIL or timeout: the last known set is kept), by upstream and provider.',
    labelNames,
    registers,
    collect() {
      this.reset();
      eachProvider(runtime(), (labels, s) => this.inc(labels, s.errors));
    },
  });
  new Gauge({
    name: 'switchyard_discovery_last_success_age_seconds',
    help: 'Seconds since a discovery provider last got a good answer (-1 before the first), by upstream and provider.',
    labelNames,
    registers,
    aggregator: 'max',
    collect() {
      this.reset();
      const now = Date.now();
      eachProvider(runtime(), (labels, s) => this.set(labels, s.lastSuccessAt > 0 ? Math.max(0, (now - s.lastSuccessAt) / 1000) : -1));
    },
  });
}
