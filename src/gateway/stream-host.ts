/**
 * StreamHost owns the gateway's layer-4 listeners (gateway.yaml `streams`):
 * it starts them with the gateway, applies each reload to them, and closes
 * them. src/streams (listeners, relay, PROXY protocol out) is imported only
 * when the configuration has a `streams:` block, at start or at the first
 * reload that adds one, so an HTTP-only gateway never loads it.
 */
import type { Logger } from 'pino';
import type { GatewayDoc } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';
import { listenFailed } from '../front-door/listen-error.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Streams } from '../streams/streams.js';
import { NO_STREAM_METRICS, type StreamMetrics } from '../telemetry/stream-metrics.js';
import { AccessLog } from '../telemetry/access-log.js';
import type { RestartCheck } from './restart-required.js';

/** What the host needs of the gateway: its log, stream metrics, and the reloader's restart checks and started config. */
export interface StreamHostDeps {
  readonly log: Logger;
  /** metrics gives the stream metrics, asked only when the first listener is created (registering them adds series to /metrics). */
  metrics(): StreamMetrics | undefined;
  addRestartCheck(check: RestartCheck): void;
  /** started is the gateway.yaml the listeners were built from (PROXY protocol acceptance stays as it was then). */
  started(): GatewayDoc;
  /** accessLog is the active configuration's log.accessLog (read per stream line, so a reload turns the lines on and off). */
  accessLog(): boolean;
}

/** StreamHost starts, reloads and closes the stream listeners. */
export class StreamHost {
  private streams: Streams | undefined;
  /** listening is true once start() ran: from then on a reload that adds the first listener starts it. */
  private listening = false;

  constructor(private readonly deps: StreamHostDeps) {}

  /** start binds the configured stream listeners (a taken port is the listen error of its gateway.yaml line). */
  async start(loaded: LoadedConfig, upstreams: Runtime['upstreams']): Promise<void> {
    if (hasStreams(loaded.gateway)) await this.startListeners(loaded, upstreams);
    this.listening = true;
  }

  private async startListeners(loaded: LoadedConfig, upstreams: Runtime['upstreams']): Promise<void> {
    const { StreamListenFailed } = await import('../streams/streams.js');
    const streams = await this.create(loaded);
    await streams.start(loaded, upstreams).catch((err: unknown) => {
      throw err instanceof StreamListenFailed ? listenFailed(err.cause, loaded, ['streams', err.listener, 'listen', 'port'], err.host, err.port) : err;
    });
    this.adopt(streams);
  }

  /** apply gives a reloaded configuration to the listeners (or starts the first ones it adds); failures are logged, never thrown. */
  async apply(loaded: LoadedConfig, upstreams: Runtime['upstreams']): Promise<void> {
    if (!this.listening) return;
    const failed = (err: unknown) => this.deps.log.error({ err }, 'stream listeners: the new configuration could not be applied');
    if (this.streams) {
      await this.streams.apply(loaded, upstreams).catch(failed);
      return;
    }
    if (!hasStreams(loaded.gateway)) return;
    // Bind failures are logged by apply and retried at the next reload.
    const add = async () => {
      const streams = await this.create(loaded);
      streams.acceptProxyAs(this.deps.started());
      this.adopt(streams);
      await streams.apply(loaded, upstreams);
    };
    await add().catch(failed);
  }

  /** ports maps each running stream listener to its bound port. */
  ports(): Record<string, number> {
    return this.streams?.ports() ?? {};
  }

  /** describe lists the running stream listeners (admin API, explain). */
  describe(): ReturnType<Streams['describe']> {
    return this.streams?.describe() ?? [];
  }

  /** close stops accepting and drains (drainTimeout, at most `capMs`). */
  async close(capMs: number): Promise<void> {
    await this.streams?.close(capMs);
  }

  private async create(loaded: LoadedConfig): Promise<Streams> {
    const [{ Streams }, { streamContext }, { STREAM_LINE }] = await Promise.all([import('../streams/streams.js'), import('../streams/context.js'), import('../streams/access-line.js')]);
    const { log } = this.deps;
    // Built whether or not the log is on now: a reload may turn it on.
    const access = AccessLog.of(log, STREAM_LINE);
    const ctx = streamContext(log.child({ kind: 'stream' }), () => (this.deps.accessLog() ? access : undefined), this.deps.metrics() ?? NO_STREAM_METRICS);
    return new Streams(ctx, log);
  }

  private adopt(streams: Streams): void {
    this.streams = streams;
    this.deps.addRestartCheck((next) => streams.restartNotices(next.gateway));
  }
}

/** hasStreams tells whether gateway.yaml declares any stream listener. */
function hasStreams(g: GatewayDoc): boolean {
  return Object.keys(g.streams ?? {}).length > 0;
}
