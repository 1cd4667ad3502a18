/**
 * The gateway: composes the parts into a running process. It loads and
 * compiles the configuration (compile/), starts the public listener
 * (front-door/public-listener.ts) on the request path (request-path.ts), the
 * admin API, health checks and the trace exporter; swaps configurations on
 * reload (reload.ts); and shuts everything down in order. createGateway is the
 * programmatic API the CLI, tests and embedders use.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseDuration } from '../config/duration.js';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../config/load.js';
import type { GatewayDoc, UpstreamDoc } from '../config/schema.js';
import type { Upstream } from '../upstream/upstream.js';
import { compileRuntime, type Compiled } from '../compile/compile.js';
import { wireHealth } from '../compile/health-wiring.js';
import { PluginHost } from '../compile/plugin-host.js';
import { pools, type Runtime } from '../proxy/runtime.js';
import { AccessLog } from '../telemetry/access-log.js';
import { NO_METRICS, Observer, type MetricsSink } from '../telemetry/observer.js';
import { PromMetrics } from '../telemetry/metrics.js';
import { createLogger } from '../telemetry/logger.js';
import type { OtlpSettings } from '../telemetry/otlp-config.js';
import { detachedCounters, replaceExporter, type OtlpExporter } from '../telemetry/otlp-exporter.js';
import { startAdmin, type AdminServer } from '../admin/server.js';
import { PublicListener } from '../front-door/public-listener.js';
import type { TlsFront, TlsServer } from '../front-door/tls.js';
import { listenFailed } from '../front-door/listen-error.js';
import { IdleMemory, releaseStartupMemory } from '../process/idle-memory.js';
import type { Streams } from '../streams/streams.js';
import { explainStream, type StreamExplanation } from '../streams/explain.js';
import type { RegistryState } from '../registry/index.js';
import { gatewayBackend } from './admin-backend.js';
import { otlpOf, Reloader, type DryRunResult } from './reload.js';
import type { ConfigModel } from '../diff/index.js';
import { RegistryHost } from './registry-host.js';
import { checkRegistryOptions } from './registry-config.js';
import { RequestPath } from './request-path.js';
import { StreamHost } from './stream-host.js';
import type { RestartCheck, RestartNotice } from './restart-required.js';
import type { GatewayState, LastChange, RejectedReload, ReloadResult } from './state.js';

export type { RejectedReload, ReloadResult };

/** GatewayOptions says where the configuration comes from. */
export type GatewayOptions = LoadOptions & {
  /** logger replaces the logger built from `log` in gateway.yaml. */
  logger?: Logger;
  /** now is the clock (tests). */
  now?: () => number;
  /** metrics replaces the metrics sink. */
  metrics?: MetricsSink;
  /** offline builds everything but connects nothing (validate, routes, explain). */
  offline?: boolean;
  /** noAdmin skips the admin listener: it is served elsewhere (a cluster worker's primary). */
  noAdmin?: boolean;
  /**
   * ownsProcess says the gateway is the process's reason to exist (`switchyard start`, a cluster worker), so it
   * may run a process-wide GC before its port opens (see listen()); an embedded gateway (tests, a host app) never does.
   */
  ownsProcess?: boolean;
};

/** Gateway is a running (or ready to run) gateway. */
export class Gateway implements GatewayState {
  /** live is the configuration serving now, and its replacement on reload. */
  private readonly live: Reloader;
  /** front is the public listener (built by listen()). */
  private front: PublicListener | undefined;
  private admin: AdminServer | undefined;
  /** startedAt is when this gateway was created (uptime on the dashboard). */
  readonly startedAt = new Date();
  /** shuttingDown is true once close() started (readiness answers not ready). */
  shuttingDown = false;
  readonly observer: Observer;
  /** otlp is the running OpenTelemetry exporter (started by listen(), swapped by a reload that changes tracing.otlp). */
  private otlp: OtlpExporter | undefined;
  /** idleMemory gives unused heap back to the OS when no traffic comes (memory.releaseWhenIdle; started by listen()). */
  readonly idleMemory: IdleMemory;
  /** unwired lists pools whose health checks start at listen() (validate/explain never start them). */
  private unwired: Compiled['fresh'];
  /** auto is the active configuration's automatic routes (discovery.autoRoutes): started by listen() and by each reload, stopped by close(). */
  private auto: Compiled['auto'];
  /** streams are the layer-4 listeners of gateway.yaml's `streams` (started by listen()). */
  private readonly streams: StreamHost;

  private constructor(
    loaded: LoadedConfig,
    compiled: Compiled,
    /** otlp is the compiled tracing.otlp of the loaded configuration. */
    otlp: OtlpSettings | undefined,
    readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly plugins: PluginHost,
    now: () => number,
    metrics: MetricsSink,
    /** registry is the gateway's own service registry (discovery.registry), started by listen(). */
    private readonly registry: RegistryHost,
  ) {
    // Pools compiled by a reload read the registry only when the process started with one (adding it later needs a restart).
    const view = () => (this.live.started.discovery?.registry !== undefined ? registry.view : undefined);
    this.live = new Reloader({ options, log, now, plugins, metrics, registry: view, applied: (c) => this.applied(c) }, loaded, compiled, otlp);
    this.observer = new Observer(undefined, metrics, () => this.config.log.refusalLinesPerSecond);
    // The start takes the same switch a reload does (applied): the log is built once, the first time log.accessLog is on.
    this.observer.useAccessLog(loaded.gateway.log.accessLog, this.makeAccessLog);
    this.unwired = compiled.fresh;
    this.auto = compiled.auto;
    this.streams = new StreamHost({
      log,
      metrics: () => this.observer.metrics.streams?.(),
      addRestartCheck: (check) => this.live.addRestartCheck(check),
      started: () => this.live.started,
      accessLog: () => this.config.log.accessLog,
    });
    this.idleMemory = new IdleMemory(
      {
        activity: () => this.observer.seen + this.live.attempts,
        busy: () => {
          for (const u of pools(this.runtime)) for (const t of u.targets) if (t.inflight > 0) return true;
          return false;
        },
      },
      log,
    );
  }

  /** healthEvents counts health transitions in the metrics. */
  private readonly healthEvents = {
    transition: (upstream: string, _target: string, kind: string) => this.observer.metrics.count('health_transition', { upstream, result: kind }),
  };

  /** create loads, validates and compiles the configuration; throws ConfigInvalid. */
  static async create(options: GatewayOptions): Promise<Gateway> {
    const loaded = await loadConfig(options);
    checkRegistryOptions(loaded);
    const log = options.logger ?? createLogger(loaded.gateway);
    const now = options.now ?? Date.now;
    let self: Gateway | undefined;
    const metrics = options.metrics ?? (options.offline ? NO_METRICS : new PromMetrics(() => self?.runtime));
    const plugins = await PluginHost.create(loaded, log, now, metrics, options.offline === true);
    try {
      const otlp = otlpOf(loaded, options);
      const registryHost = new RegistryHost({ log, metrics });
      const registry = loaded.gateway.discovery?.registry !== undefined ? { registry: registryHost.view } : {};
      const compiled = await compileRuntime(loaded, { version: 1, log, now, previous: undefined, buildChain: plugins.chainBuilder(), baseDir: loaded.baseDir, ...registry });
      self = new Gateway(loaded, compiled, otlp, log, options, plugins, now, metrics, registryHost);
      return self;
    } catch (err) {
      await plugins.close();
      throw err;
    }
  }

  /**
   * addRestartCheck adds a check run on every successful reload: the notices
   * it returns join `restartRequired` (logged, in the reload result, in
   * GET /config and on the dashboard) until a reload finds none.
   */
  addRestartCheck(check: RestartCheck): void {
    this.live.addRestartCheck(check);
  }

  /** runtime is the active configuration. */
  get runtime(): Runtime {
    return this.live.runtime;
  }

  /** config is the active gateway.yaml document (defaults applied). */
  get config(): GatewayDoc {
    return this.live.loaded.gateway;
  }

  /** lastRejected is the last reload that failed validation. */
  get lastRejected(): RejectedReload | undefined {
    return this.live.lastRejected;
  }

  /** restartRequired lists the configured changes the running process has not applied (see restart-required.ts). */
  get restartRequired(): RestartNotice[] {
    return this.live.restartRequired;
  }

  /** lastChange is the diff summary of the last applied reload (GET /config, the dashboard). */
  get lastChange(): LastChange | undefined {
    return this.live.lastChange;
  }

  /** configModel is the active configuration's diff model (src/diff), secrets fingerprinted. */
  configModel(): Promise<ConfigModel> {
    return this.live.model();
  }

  /** dryRunReload diffs the files on disk against the active configuration, applying nothing (POST /reload?dryRun=1). */
  dryRunReload(): Promise<DryRunResult> {
    return this.live.dryRun();
  }

  /** docOf returns the doc an upstream was built from. */
  docOf(name: string) {
    for (const f of this.live.loaded.files) {
      const d = f.doc.upstreams?.[name];
      if (d) return d;
    }
    throw new Error(`no upstream ${name}`);
  }

  /** listen starts the public and admin listeners; resolves with their ports. */
  async listen(): Promise<{ port: number; adminPort: number | undefined; redirectPort?: number }> {
    const loaded = this.live.loaded;
    const g = loaded.gateway;
    this.live.started = g;
    if (g.listen.redirectHttp !== undefined && g.listen.tls === undefined) throw new Error('listen.redirectHttp redirects to HTTPS: it needs listen.tls');
    const secure = g.listen.tls !== undefined;
    // The registry first: the pools it fills start reading it as they are wired just below.
    await this.registry.start(loaded);
    for (const u of this.unwired.splice(0)) wireHealth(u, this.docOf(u.name), loaded.baseDir, this.log, this.healthEvents);
    this.auto?.start(this.wireAuto);
    const handlers = new RequestPath(this.observer, this.log, () => this.runtime).handlers(g, secure);
    this.front = await PublicListener.create({ ...handlers, loaded, current: () => this.runtime, log: this.log, metrics: this.observer.metrics });
    this.startOtlp();
    // Start-up leaves the most garbage (config parsing, schema compilation) and grows the young generation to its
    // maximum; nothing else would give it back (see process/idle-memory.ts): measured with the bench's 10 routes,
    // 112 → 77 MiB idle RSS. Released here, before the port opens, it costs no request anything: none can arrive yet.
    if (this.options.ownsProcess === true) await releaseStartupMemory(this.log);
    const { port, redirectPort } = await this.front.listen();
    await this.streams.start(loaded, this.runtime.upstreams);
    let adminPort: number | undefined;
    if (g.admin.enabled && this.options.noAdmin !== true) {
      this.admin = await startAdmin(gatewayBackend(this), g.admin).catch((err: unknown) => {
        throw listenFailed(err, this.live.loaded, ['admin', 'port'], g.admin.host, g.admin.port);
      });
      adminPort = this.admin.port;
    }
    this.idleMemory.configure(parseDuration(g.memory.releaseWhenIdle));
    this.log.info({ port, adminPort, tls: secure, redirectPort, version: this.live.version, routes: this.runtime.routes.length }, 'switchyard listening');
    return { port, adminPort, ...(redirectPort !== undefined ? { redirectPort } : {}) };
  }

  /** streamPorts maps each running stream listener to its bound port (after listen). */
  streamPorts(): Record<string, number> {
    return this.streams.ports();
  }

  /** explainStream tells which stream route a connection to `listener` with server name `sni` takes (switchyard explain --listener). */
  explainStream(listener: string, sni: string | undefined): StreamExplanation {
    return explainStream(this.live.loaded, this.runtime.upstreams, listener, sni);
  }

  /** streamListeners describes the running stream listeners (admin API, explain). */
  streamListeners(): ReturnType<Streams['describe']> {
    return this.streams.describe();
  }

  /** wireAuto starts an automatic route's pool (its doc is not in any route file). */
  private readonly wireAuto = (u: Upstream, doc: UpstreamDoc) => wireHealth(u, doc, this.live.loaded.baseDir, this.log, this.healthEvents);

  /** registryPort is the service registry's listener port (after listen), undefined when it runs none. */
  get registryPort(): number | undefined {
    return this.registry.port;
  }

  /** server is the public listener's server (tests count its connections). */
  private get server(): Server | TlsServer | undefined {
    return this.front?.server;
  }

  /** sockets are the public listener's open connections (tests read what their write queues hold). */
  private get sockets(): ReadonlySet<Socket> {
    return new Set(this.front?.sockets.values());
  }

  /** tls owns the certificates when the public listener terminates TLS. */
  private get tls(): TlsFront | undefined {
    return this.front?.tls;
  }

  /** certificates describes the public listener's TLS certificates (empty without TLS). */
  certificates(): Array<{ cert: string; names: readonly string[]; notAfter: string }> {
    return this.tls?.certificates.describe() ?? [];
  }

  /** storeStatus is the shared store's kind, and for Redis whether it is reachable now. */
  storeStatus(): { kind: string; healthy: boolean } {
    return { kind: this.plugins.store.kind, healthy: this.plugins.store.healthy() };
  }

  registryState(): RegistryState | undefined {
    return this.registry.state();
  }

  /** startOtlp starts, replaces or stops the OpenTelemetry exporter to match the loaded tracing.otlp. */
  private startOtlp(): void {
    this.otlp = replaceExporter(this.otlp, this.live.otlp, () => this.observer.metrics.otlpSpans?.() ?? detachedCounters(), () => this.log.child({ kind: 'otlp' }));
    this.observer.spans = this.otlp;
  }

  /** watchPaths lists the files and directories a reload reads. */
  watchPaths(): Array<{ path: string; isDir: boolean }> {
    const { gatewayFile, gateway, baseDir } = this.live.loaded;
    const out: Array<{ path: string; isDir: boolean }> = [];
    if (gatewayFile) out.push({ path: resolve(gatewayFile), isDir: false });
    const r = gateway.routes;
    for (const p of Array.isArray(r) ? r : [r]) out.push({ path: resolve(baseDir, p), isDir: !Array.isArray(r) });
    return out;
  }

  /** readiness lists the readiness checks: config loaded, listening, not shutting down, store reachable. */
  readiness(): Record<string, boolean> {
    return {
      config: this.runtime !== undefined,
      listening: this.server?.listening === true,
      accepting: !this.shuttingDown,
      ...(this.plugins.store.kind === 'redis' ? { redis: this.plugins.store.healthy() } : {}),
    };
  }

  /** metricsText renders the Prometheus exposition. */
  async metricsText(): Promise<string> {
    const m = this.observer.metrics as MetricsSink & { text?: () => Promise<string> };
    return m.text ? m.text() : '';
  }

  /** port is the public listener's port (after listen). */
  get port(): number {
    return this.front?.port ?? 0;
  }

  /**
   * reload loads and validates the configuration again and swaps it in only
   * when it is valid in full (reload.ts); concurrent calls share one reload.
   */
  reload(): Promise<ReloadResult> {
    // Certificate files are re-read too: renewal hooks (certbot's deploy hook) send SIGHUP.
    void this.tls?.reloadCertificates();
    return this.live.reload();
  }

  /** makeAccessLog builds the request access log (Observer.useAccessLog calls it once). */
  private readonly makeAccessLog = (): AccessLog => AccessLog.create(this.log);

  /** applied starts what a configuration swapped in by a reload needs: the exporter, the idle-memory release, new pools' health checks; it resolves once new stream listeners are bound. */
  private async applied(compiled: Compiled): Promise<void> {
    const loaded = this.live.loaded;
    const on = loaded.gateway.log.accessLog;
    // Said in the log: from a line on, requests stop (or start) leaving a trace, and whoever reads the log later should see where.
    if (this.observer.useAccessLog(on, this.makeAccessLog)) this.log.info({ accessLog: on }, `access log turned ${on ? 'on' : 'off'} by a reload (log.accessLog)`);
    if (this.front && !this.shuttingDown) {
      this.startOtlp();
      this.idleMemory.configure(parseDuration(loaded.gateway.memory.releaseWhenIdle));
    }
    if (this.front) for (const u of compiled.fresh) wireHealth(u, this.docOf(u.name), loaded.baseDir, this.log, this.healthEvents);
    else this.unwired = [...this.unwired.filter((u) => !compiled.retired.includes(u)), ...compiled.fresh];
    // The new automatic routes take over the old ones' pools; turned off, the old ones stop.
    const oldAuto = this.auto;
    this.auto = compiled.auto;
    if (this.front) {
      if (compiled.auto) compiled.auto.start(this.wireAuto);
      else void oldAuto?.stop();
    } else if (compiled.auto === undefined) void oldAuto?.stop();
    if (!this.shuttingDown) await this.streams.apply(loaded, compiled.runtime.upstreams);
  }

  /**
   * close stops accepting connections, lets in-flight requests finish (up to
   * shutdownTimeout), closes idle keep-alive connections, and stops health
   * checks, plugins and pools.
   */
  async close(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.idleMemory.stop();
    // Streams drain (drainTimeout) while HTTP requests finish (shutdownTimeout).
    const shutdownMs = parseDuration(this.config.shutdownTimeout);
    await Promise.all([this.front?.close(shutdownMs), this.streams.close(shutdownMs)]);
    // After the listener: every request that finished has its span queued; one bounded final flush.
    await this.otlp?.close();
    await this.admin?.close();
    for (const u of this.runtime.upstreams.values()) u.dispose();
    const autoClosed = this.auto?.stop();
    this.unwired = [];
    await Promise.all([...this.runtime.upstreams.values()].flatMap((u) => u.targets.map((t) => t.close())));
    await autoClosed;
    // After the pools: their providers stopped reading it.
    await this.registry.close();
    await Promise.all(this.live.links.map((l) => Promise.resolve(l.hooks.close?.()).catch(() => undefined)));
    await this.plugins.close();
    this.log.info('switchyard stopped');
    this.log.flush?.();
  }
}

/** createGateway loads the configuration and returns a gateway ready to listen(). */
export function createGateway(options: GatewayOptions): Promise<Gateway> {
  return Gateway.create(options);
}

