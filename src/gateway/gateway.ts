/**
 * The gateway: loads and compiles the configuration, runs the public and admin
 * listeners, and swaps configurations atomically on reload. createGateway is
 * the programmatic API the CLI, tests and embedders use.
 */
import { resolve } from 'node:path';
import http, { type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { parseDuration } from '../config/duration.js';
import { ConfigInvalid, type ConfigError } from '../config/errors.js';
import { INLINE_GATEWAY, loadConfig, type LoadedConfig, type LoadOptions } from '../config/load.js';
import type { Env } from '../config/env.js';
import type { GatewayDoc } from '../config/schema.js';
import { createClientIpResolver } from '../http/client-ip.js';
import { createHandler } from '../proxy/handler.js';
import type { ProxyHooks, Refusal } from '../proxy/hooks.js';
import type { ErrorCode } from '../errors.js';
import { compileRuntime, type Compiled } from '../compile/compile.js';
import { NO_METRICS, Observer, type MetricsSink } from '../telemetry/observer.js';
import { PromMetrics } from '../telemetry/metrics.js';
import type { Runtime } from '../proxy/runtime.js';
import { createLogger } from '../telemetry/logger.js';
import { wireHealth } from '../compile/health-wiring.js';
import { PluginHost } from '../compile/plugin-host.js';
import { handleUpgrade } from '../proxy/websocket.js';
import { startAdmin, type AdminServer } from '../admin/server.js';
import { gatewayBackend } from './admin-backend.js';
import type { GatewayState, RejectedReload, ReloadResult } from './state.js';

export type { RejectedReload, ReloadResult };
import { TlsFront, type TlsServer } from '../front-door/tls.js';
import { CLOSE_GRACE_MS } from '../front-door/h2-sessions.js';
import { createRedirectServer } from '../front-door/https-redirect.js';
import { bind, listenFailed } from '../front-door/listen-error.js';
import { capConnections } from '../front-door/connection-cap.js';
import { otlpSettings, type OtlpSettings } from '../telemetry/otlp-config.js';
import { detachedCounters, OtlpExporter } from '../telemetry/otlp-exporter.js';
import { IdleMemory } from '../process/idle-memory.js';
import { createClientErrorHandler } from '../front-door/client-error.js';
import { restartNotices, type RestartCheck, type RestartNotice } from './restart-required.js';
import { describeSummary, summarizeReload, type ReloadSummary } from './reload-summary.js';

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
};


/** Gateway is a running (or ready to run) gateway. */
export class Gateway implements GatewayState {
  private active: Runtime;
  private activeLinks: Compiled['links'];
  private server: Server | TlsServer | undefined;
  /** tls owns the certificates when the public listener terminates TLS. */
  private tls: TlsFront | undefined;
  /** redirect is the plain-HTTP listener answering 308 to HTTPS (listen.redirectHttp). */
  private redirect: Server | undefined;
  private admin: AdminServer | undefined;
  private readonly sockets = new Set<Socket>();
  private version: number;
  private reloading: Promise<ReloadResult> | undefined;
  /** lastRejected is the last reload that failed validation. */
  lastRejected: RejectedReload | undefined;
  /** restartRequired lists the configured changes the running process has not applied (see restart-required.ts). */
  restartRequired: RestartNotice[] = [];
  /** startedAt is when this gateway was created (uptime on the dashboard). */
  readonly startedAt = new Date();
  /** started is the gateway.yaml the listeners were built from: restart notices compare against it. */
  private started: GatewayDoc;
  /** restartChecks are asked on every successful reload; see addRestartCheck. */
  private readonly restartChecks: RestartCheck[] = [(next) => restartNotices(this.started, next.gateway)];
  /** shuttingDown is true once close() started (readiness answers not ready). */
  shuttingDown = false;
  readonly observer: Observer;
  /** otlp is the running OpenTelemetry exporter (started by listen(), swapped by a reload that changes tracing.otlp). */
  private otlp: OtlpExporter | undefined;
  /** reloads counts reload attempts: each leaves garbage for the idle-memory release. */
  private reloads = 0;
  /** idleMemory gives unused heap back to the OS when no traffic comes (memory.releaseWhenIdle; started by listen()). */
  readonly idleMemory: IdleMemory;

  private constructor(
    private loaded: LoadedConfig,
    compiled: Compiled,
    readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly plugins: PluginHost,
    private readonly now: () => number,
    metrics: MetricsSink,
    /** otlpSettings is the compiled tracing.otlp of the loaded configuration. */
    private otlpSettings: OtlpSettings | undefined,
  ) {
    this.active = compiled.runtime;
    this.activeLinks = compiled.links;
    this.version = compiled.runtime.version;
    this.started = loaded.gateway;
    const g = loaded.gateway;
    this.observer = new Observer(g.log.accessLog ? log.child({ kind: 'access' }) : undefined, metrics, () => this.loaded.gateway.log.refusalLinesPerSecond);
    this.unwired = compiled.fresh;
    this.idleMemory = new IdleMemory(
      {
        activity: () => this.observer.seen + this.reloads,
        busy: () => {
          for (const u of this.active.upstreams.values()) for (const t of u.targets) if (t.inflight > 0) return true;
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

  /** unwired lists pools whose health checks start at listen() (validate/explain never start them). */
  private unwired: Compiled['fresh'];

  /** create loads, validates and compiles the configuration; throws ConfigInvalid. */
  static async create(options: GatewayOptions): Promise<Gateway> {
    const loaded = await loadConfig(options);
    const log = options.logger ?? createLogger(loaded.gateway);
    const now = options.now ?? Date.now;
    let self: Gateway | undefined;
    const metrics = options.metrics ?? (options.offline ? NO_METRICS : new PromMetrics(() => self?.runtime));
    const plugins = await PluginHost.create(loaded, log, now, metrics, options.offline === true);
    try {
      const otlp = otlpOf(loaded, options);
      const compiled = await compileRuntime(loaded, { version: 1, log, now, previous: undefined, buildChain: plugins.chainBuilder(), baseDir: loaded.baseDir });
      self = new Gateway(loaded, compiled, log, options, plugins, now, metrics, otlp);
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
    this.restartChecks.push(check);
  }

  /** certificates describes the public listener's TLS certificates (empty without TLS). */
  certificates(): Array<{ cert: string; names: readonly string[]; notAfter: string }> {
    return this.tls?.certificates.describe() ?? [];
  }

  /** storeStatus is the shared store's kind, and for Redis whether it is reachable now. */
  storeStatus(): { kind: string; healthy: boolean } {
    return { kind: this.plugins.store.kind, healthy: this.plugins.store.healthy() };
  }

  /** runtime is the active configuration. */
  get runtime(): Runtime {
    return this.active;
  }

  /** config is the active gateway.yaml document (defaults applied). */
  get config(): GatewayDoc {
    return this.loaded.gateway;
  }

  /** docOf returns the doc an upstream was built from. */
  docOf(name: string) {
    for (const f of this.loaded.files) {
      const d = f.doc.upstreams?.[name];
      if (d) return d;
    }
    throw new Error(`no upstream ${name}`);
  }

  /** listen starts the public and admin listeners; resolves with their ports. */
  async listen(): Promise<{ port: number; adminPort: number | undefined; redirectPort?: number }> {
    const g = this.loaded.gateway;
    this.started = g;
    const limits = g.limits!;
    const tlsDoc = g.listen.tls;
    if (g.listen.redirectHttp !== undefined && tlsDoc === undefined) throw new Error('listen.redirectHttp redirects to HTTPS: it needs listen.tls');
    const secure = tlsDoc !== undefined;
    for (const u of this.unwired.splice(0)) wireHealth(u, this.docOf(u.name), this.loaded.baseDir, this.log, this.healthEvents);
    const ips = createClientIpResolver(g.trustProxy);
    const hooks: ProxyHooks = {
      onFinish: (ex) => this.observer.finished(ex),
      log: this.log,
      onAttemptEnd: (end) => {
        this.observer.attemptEnded(end);
        // An attempt the client abandoned says nothing about the target: passive health hears neither a success nor a failure.
        if (end.outcome === 'ok') end.ex.route.upstream.outcome(end.target, true, '');
        else if (end.outcome === 'error') end.ex.route.upstream.outcome(end.target, false, end.reason ?? `status ${end.status}`);
      },
      onRetry: (ex, target, reason) => {
        this.observer.metrics.retry(ex.upstream);
        this.log.debug({ reqId: ex.id, upstream: ex.upstream, target: target.id, reason, trace: ex.traceId }, 'retrying on another target');
      },
      onSendTimeout: (ex) => {
        this.observer.metrics.count('send_timeout', { upstream: ex.upstream });
        this.log.info({ reqId: ex.id, route: ex.routeId, ip: ex.clientIp, trace: ex.traceId }, 'client stopped reading: connection closed (limits.sendTimeout)');
      },
    };
    const onRejected = (refusal: Refusal) => this.observer.rejected(refusal, this.active.trace !== undefined);
    const handler = createHandler({
      current: () => this.active,
      ips,
      trustRequestId: g.trustRequestId,
      trustProxyConfigured: g.trustProxy !== false,
      maxUrlLength: limits.maxUrlLength,
      maxHeaders: limits.maxHeaders,
      hooks,
      onRejected,
      secure,
    });
    let server: Server | TlsServer;
    if (tlsDoc !== undefined) {
      this.tls = await TlsFront.create({ doc: tlsDoc, baseDir: this.loaded.baseDir, limits, log: this.log, debounceMs: parseDuration(g.reload.debounce), handler });
      server = this.tls.server;
    } else server = http.createServer(
      {
        requestTimeout: parseDuration(limits.requestTimeout),
        headersTimeout: parseDuration(limits.headerTimeout),
        keepAliveTimeout: parseDuration(limits.keepAliveTimeout),
        maxHeaderSize: limits.maxHeaderSize,
        // Reject ambiguous framing (CL+TE, obs-fold, bare LF) instead of guessing.
        insecureHTTPParser: false,
        requireHostHeader: true,
        connectionsCheckingInterval: 1000,
      },
      handler,
    );
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      handleUpgrade(req, socket, head, {
        current: () => this.active,
        ips,
        maxMessage: limits.maxWebSocketMessage,
        hooks,
        onRejected,
        secure,
        onOriginRefused: (ex, reason) => this.observer.metrics.count('websocket_origin_rejected', { upstream: ex.upstream, result: reason }),
      }),
    );
    capConnections(server, limits.maxConnections, () => this.dropped('public'));
    // node stops parsing headers past this count (and the handler answers 431), instead of storing 2000.
    (server as { maxHeadersCount: number | null }).maxHeadersCount = limits.maxHeaders + 1;
    const refused = (method: string, path: string, status: number, id: string, ip: string, code: ErrorCode) => this.observer.refused(method, path, status, id, ip, code, this.active.trace !== undefined);
    server.on('clientError', createClientErrorHandler(limits.maxUrlLength, refused, hooks.onFinish));
    // `Expect: 100-continue` requests go through the same handler, which sends the 100 only once the
    // request is accepted (routed, authorized, within the body limit): refused ones never upload their body.
    server.on('checkContinue', handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server = server;
    this.startOtlp();
    await bind(server, g.listen.port, g.listen.host, this.loaded, ['listen', 'port']);
    const port = (server.address() as AddressInfo).port;
    const redirectPort = this.tls && g.listen.redirectHttp !== undefined ? await this.listenRedirect(this.tls, g.listen.redirectHttp, g.listen.publicHttpsPort ?? port) : undefined;
    let adminPort: number | undefined;
    if (g.admin.enabled && this.options.noAdmin !== true) {
      this.admin = await startAdmin(gatewayBackend(this), g.admin).catch((err: unknown) => {
        throw listenFailed(err, this.loaded, ['admin', 'port'], g.admin.host, g.admin.port);
      });
      adminPort = this.admin.port;
    }
    this.idleMemory.configure(parseDuration(g.memory.releaseWhenIdle));
    this.log.info({ port, adminPort, tls: secure, redirectPort, version: this.version, routes: this.active.routes.length }, 'switchyard listening');
    return { port, adminPort, ...(redirectPort !== undefined ? { redirectPort } : {}) };
  }

  /** listenRedirect starts the plain-HTTP listener that answers 308 to HTTPS; resolves with its port. */
  private async listenRedirect(tls: TlsFront, port: number, httpsPort: number): Promise<number> {
    const limits = this.loaded.gateway.limits!;
    const redirect = createRedirectServer({
      current: () => this.active,
      covered: (host) => tls.certificates.covers(host),
      httpsPort: () => httpsPort,
      maxUrlLength: limits.maxUrlLength,
      headersTimeoutMs: parseDuration(limits.headerTimeout),
      requestTimeoutMs: parseDuration(limits.requestTimeout),
      keepAliveTimeoutMs: parseDuration(limits.keepAliveTimeout),
      maxHeaderSize: limits.maxHeaderSize,
    });
    capConnections(redirect, limits.maxConnections, () => this.dropped('redirect'));
    this.redirect = redirect;
    await bind(redirect, port, this.loaded.gateway.listen.host, this.loaded, ['listen', 'redirectHttp']);
    return (redirect.address() as AddressInfo).port;
  }

  /**
   * startOtlp starts, replaces or stops the OpenTelemetry exporter to match
   * the loaded tracing.otlp. Unchanged settings keep the running exporter and
   * its queue; a replaced one flushes what it holds in the background while
   * requests finishing from now on go to the new one.
   */
  private startOtlp(): void {
    const settings = this.otlpSettings;
    const old = this.otlp;
    if (old?.settings.key === settings?.key) return;
    this.otlp = settings === undefined ? undefined : new OtlpExporter(settings, this.observer.metrics.otlpSpans?.() ?? detachedCounters(), this.log.child({ kind: 'otlp' }));
    this.observer.spans = this.otlp;
    if (old !== undefined) void old.close();
  }

  /** dropped counts a connection closed on arrival because `listener` was at limits.maxConnections. */
  private dropped(listener: 'public' | 'redirect'): void {
    this.observer.metrics.count('connection_dropped', { result: listener });
    this.log.debug({ listener }, 'connection dropped: limits.maxConnections reached');
  }

  /** watchPaths lists the files and directories a reload reads. */
  watchPaths(): Array<{ path: string; isDir: boolean }> {
    const out: Array<{ path: string; isDir: boolean }> = [];
    if (this.loaded.gatewayFile) out.push({ path: resolve(this.loaded.gatewayFile), isDir: false });
    const r = this.loaded.gateway.routes;
    for (const p of Array.isArray(r) ? r : [r]) out.push({ path: resolve(this.loaded.baseDir, p), isDir: !Array.isArray(r) });
    return out;
  }

  /** readiness lists the readiness checks: config loaded, listening, not shutting down, store reachable. */
  readiness(): Record<string, boolean> {
    return {
      config: this.active !== undefined,
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

  /** address is the public listener's port (after listen). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /**
   * reload loads and validates the configuration again and swaps it in only
   * when it is valid in full; concurrent calls share one reload.
   */
  reload(): Promise<ReloadResult> {
    // Certificate files are re-read too: renewal hooks (certbot's deploy hook) send SIGHUP.
    void this.tls?.reloadCertificates();
    this.reloading ??= this.doReload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async doReload(): Promise<ReloadResult> {
    this.reloads++;
    let loaded: LoadedConfig;
    let compiled: Compiled;
    let otlp: OtlpSettings | undefined;
    let pluginsReloaded: string[];
    try {
      loaded = await loadConfig(this.options);
      otlp = otlpOf(loaded, this.options);
      // Custom plugins whose files changed are imported afresh (their names are in the result and the log line).
      pluginsReloaded = (await this.plugins.refresh(loaded)).filter((p) => p.changed).map((p) => p.name);
      compiled = await compileRuntime(loaded, {
        version: this.version + 1,
        log: this.log,
        now: this.now,
        previous: this.active,
        buildChain: this.plugins.chainBuilder(),
        baseDir: loaded.baseDir,
      });
    } catch (err) {
      const errors = err instanceof ConfigInvalid ? err.errors : [];
      const text = err instanceof ConfigInvalid ? errors.map((e) => e.format()) : [String((err as Error)?.message ?? err)];
      this.lastRejected = { at: new Date(), errors: text };
      this.log.error({ errors: text }, 'configuration rejected; the previous configuration keeps serving');
      this.observer.metrics.count('config_reload', { result: 'failed' });
      return { ok: false, errors };
    }
    const restartRequired = await this.checkRestart(loaded);
    const changes = summarizeReload({ loaded: this.loaded, sources: this.active.sources }, { loaded, sources: compiled.runtime.sources });
    const oldLinks = this.activeLinks;
    this.loaded = loaded;
    this.version = compiled.runtime.version;
    this.active = compiled.runtime; // the swap: one reference
    this.activeLinks = compiled.links;
    this.otlpSettings = otlp;
    if (this.server && !this.shuttingDown) {
      this.startOtlp();
      this.idleMemory.configure(parseDuration(loaded.gateway.memory.releaseWhenIdle));
    }
    if (this.server) for (const u of compiled.fresh) wireHealth(u, this.docOf(u.name), loaded.baseDir, this.log, this.healthEvents);
    else this.unwired = [...this.unwired.filter((u) => !compiled.retired.includes(u)), ...compiled.fresh];
    for (const u of compiled.retired) u.dispose();
    // Old pools and plugin instances finish their in-flight work before closing.
    void Promise.all(compiled.retiredTargets.map((t) => t.close()));
    void Promise.all(oldLinks.map((l) => Promise.resolve(l.hooks.close?.()).catch(() => undefined)));
    this.observer.metrics.count('config_reload', { result: 'ok' });
    // The files no longer hold what was rejected: say so instead of showing a stale failure.
    if (this.lastRejected && this.lastRejected.supersededBy === undefined) this.lastRejected.supersededBy = this.version;
    this.restartRequired = restartRequired;
    const reloadedCode = pluginsReloaded.length > 0 ? { pluginsReloaded } : {};
    this.log.info({ version: this.version, routeCount: compiled.runtime.routes.length, ...changes, ...reloadedCode }, `configuration reloaded (${describeSummary(changes)})`);
    if (restartRequired.length > 0) {
      this.log.warn({ restartRequired }, `configuration reloaded, but these changes wait for a restart (the old values stay in use): ${restartRequired.map((n) => n.key).join(', ')}`);
    }
    return { ok: true, version: this.version, changes, restartRequired, ...reloadedCode };
  }

  /** checkRestart runs every restart check; a failing check is logged and leaves its notices out, never failing the reload. */
  private async checkRestart(loaded: LoadedConfig): Promise<RestartNotice[]> {
    const out: RestartNotice[] = [];
    for (const check of this.restartChecks) {
      try {
        out.push(...(await check(loaded)));
      } catch (err) {
        this.log.error({ err }, 'restart check failed');
      }
    }
    return out;
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
    const server = this.server;
    const timeout = parseDuration(this.loaded.gateway.shutdownTimeout);
    this.tls?.stop();
    this.redirect?.close();
    this.redirect?.closeAllConnections();
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Past shutdownTimeout every connection is cut, whatever state it is in
      // (an HTTP/2 session can wait for ever for a write to a vanished peer);
      // a moment later close() stops waiting even if a socket never reported.
      const timer = setTimeout(() => {
        server.closeAllConnections();
        for (const s of this.sockets) s.destroy();
      }, timeout);
      timer.unref();
      const gaveUp = new Promise<'gave up'>((resolve) => {
        const t = setTimeout(() => resolve('gave up'), timeout + CLOSE_GRACE_MS);
        t.unref();
        void closed.then(() => clearTimeout(t));
      });
      if ((await Promise.race([closed, gaveUp])) === 'gave up') this.log.warn({ open: this.sockets.size }, 'connections still open after shutdownTimeout; stopping anyway');
      clearTimeout(timer);
      for (const s of this.sockets) s.destroy();
    }
    // After the listener: every request that finished has its span queued; one bounded final flush.
    await this.otlp?.close();
    await this.admin?.close();
    for (const u of this.active.upstreams.values()) u.dispose();
    this.unwired = [];
    await Promise.all([...this.active.upstreams.values()].flatMap((u) => u.targets.map((t) => t.close())));
    await Promise.all(this.activeLinks.map((l) => Promise.resolve(l.hooks.close?.()).catch(() => undefined)));
    await this.plugins.close();
    this.log.info('switchyard stopped');
    this.log.flush?.();
  }
}

/** envOf is where OTEL_* variables are read: the environment the configuration's `${VAR}` come from. */
function envOf(options: GatewayOptions): Env {
  return (options as { env?: Env }).env ?? process.env;
}

/** otlpOf compiles a loaded configuration's tracing.otlp (at start and at each reload). */
function otlpOf(loaded: LoadedConfig, options: GatewayOptions): OtlpSettings | undefined {
  return otlpSettings(loaded.gateway.tracing, envOf(options), { file: loaded.gatewayFile ?? INLINE_GATEWAY, locate: loaded.locateGateway });
}

/** createGateway loads the configuration and returns a gateway ready to listen(). */
export function createGateway(options: GatewayOptions): Promise<Gateway> {
  return Gateway.create(options);
}
