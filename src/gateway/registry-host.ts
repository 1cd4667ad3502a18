/**
 * The gateway's own service registry (gateway.yaml `discovery.registry`) over
 * the gateway's life: pools compiled before it runs read it through `view`
 * (registry-view.ts); listen() starts it, with its metrics on /metrics; close()
 * stops it after the pools that read it.
 */
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { listenFailed } from '../front-door/listen-error.js';
import type { RegistryState, RunningRegistry } from '../registry/index.js';
import { PromMetrics } from '../telemetry/metrics.js';
import type { MetricsSink } from '../telemetry/observer.js';
import { promRegistryMetrics, type RegistryMetricHooks } from '../telemetry/registry-metrics.js';
import { RegistryView } from './registry-view.js';

/** RegistryHost starts, exposes and stops the gateway's service registry. */
export class RegistryHost {
  /** view is what `discover: { registry }` pools read: empty until start() attaches the running registry. */
  readonly view = new RegistryView();
  private running: RunningRegistry | undefined;

  constructor(private readonly deps: { log: Logger; metrics: MetricsSink }) {}

  /** start runs the registry when gateway.yaml sets discovery.registry (once; its start-up warnings are logged by it). */
  async start(loaded: LoadedConfig): Promise<void> {
    const doc = loaded.gateway.discovery?.registry;
    if (doc === undefined || this.running !== undefined) return;
    const redisUrl = loaded.gateway.redis?.url;
    // Imported on demand: the registry's Redis store pulls in ioredis, an optional module a gateway without it never loads.
    const { startRegistry } = await import('../registry/index.js');
    const metrics = this.metrics(doc.limits.maxMetricApps);
    this.running = await startRegistry({ options: doc, log: this.deps.log, ...(redisUrl ? { redisUrl } : {}), ...(metrics ? { metrics } : {}) }).catch((err: unknown) => {
      throw listenFailed(err, loaded, ['discovery', 'registry', 'listen', 'port'], doc.listen.host, doc.listen.port);
    });
    this.view.attach(this.running.registry);
  }

  /** port is the registry's listener port (after start), undefined when it runs none. */
  get port(): number | undefined {
    return this.running?.port;
  }

  /** state is the registry's state (admin API, dashboard), undefined when it runs none. */
  state(): RegistryState | undefined {
    return this.running?.registry.state();
  }

  /** close stops the registry. */
  async close(): Promise<void> {
    await this.running?.close();
  }

  /** metrics binds the registry's metric hooks to /metrics (none when metrics are off or replaced). */
  private metrics(maxApps: number): RegistryMetricHooks | undefined {
    const sink = this.deps.metrics;
    if (!(sink instanceof PromMetrics)) return undefined;
    return promRegistryMetrics({ registry: sink.registry, state: () => this.state(), maxApps });
  }
}
