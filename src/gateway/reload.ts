/**
 * Reload: the configuration a gateway serves, and its replacement. A reload
 * loads and validates every file again, compiles a new runtime next to the one
 * serving, and swaps it in only when all of it is valid: a single reference
 * changes, so a request sees one configuration or the other, never a mix. A
 * rejected reload leaves the old configuration serving and is remembered for
 * GET /config and the dashboard until a later reload succeeds. A successful
 * one says what changed (reload-summary.ts) and which changes wait for a
 * restart (restart-required.ts); the old pools and plugin instances finish
 * their in-flight work before they close.
 */
import type { Logger } from 'pino';
import { ConfigInvalid } from '../config/errors.js';
import type { Env } from '../config/env.js';
import { INLINE_GATEWAY, loadConfig, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { checkRegistryOptions } from './registry-config.js';
import type { GatewayDoc } from '../config/schema.js';
import { compileRuntime, type Compiled } from '../compile/compile.js';
import type { PluginHost } from '../compile/plugin-host.js';
import type { RegistrySource } from '../discovery/index.js';
import type { Runtime } from '../proxy/runtime.js';
import { otlpSettings, type OtlpSettings } from '../telemetry/otlp-config.js';
import type { MetricsSink } from '../telemetry/observer.js';
import { describeSummary, summarizeReload } from './reload-summary.js';
import type { ConfigModel, DiffReport } from '../diff/index.js';
import { restartNotices, type RestartCheck, type RestartNotice } from './restart-required.js';
import type { LastChange, RejectedReload, ReloadResult } from './state.js';

/**
 * diffModule loads src/diff (~45 KB of code, the comparison and renderer) the
 * first time a model or a diff is asked for: at the first reload, dry run or
 * GET /config/model, never at start, so a gateway that is never reloaded
 * does not keep it in memory.
 */
let diffModule: Promise<typeof import('../diff/index.js')> | undefined;
const loadDiff = () => (diffModule ??= import('../diff/index.js'));

/** DryRunResult is what POST /reload?dryRun=1 answers: the diff from the active configuration to the files on disk, or why they are invalid. */
export type DryRunResult = { ok: true; dryRun: true; applied: false; version: number; diff: DiffReport } | { ok: false; dryRun: true; errors: ConfigInvalid['errors'] };

/** ReloadHost is what a reload needs of the gateway around it. */
export interface ReloadHost {
  /** options say where the configuration comes from (read again on each reload). */
  readonly options: LoadOptions;
  readonly log: Logger;
  readonly now: () => number;
  /** plugins instantiates plugin chains; custom plugins whose files changed are imported afresh. */
  readonly plugins: PluginHost;
  readonly metrics: MetricsSink;
  /** registry is the gateway's own registry for `discover: { registry }` pools, when it runs one. */
  readonly registry?: () => RegistrySource | undefined;
  /**
   * applied is told of each configuration swapped in, after the swap and
   * before the old one retires: the gateway starts what the new one needs
   * (health checks of new pools, the exporter, the idle-memory release).
   * What it returns (stream listeners a reload adds, being bound) is awaited
   * before the reload answers.
   */
  applied(compiled: Compiled): void | Promise<void>;
}

/**
 * Reloader holds the configuration a gateway serves (the loaded files, the
 * compiled runtime, its plugin instances, its tracing export settings) and
 * replaces it, whole or not at all, on reload.
 */
export class Reloader {
  /** loaded is the active configuration as loaded (files, gateway.yaml with defaults applied). */
  loaded: LoadedConfig;
  /** runtime is the active compiled configuration: the one reference a reload swaps. */
  runtime: Runtime;
  /** links are the active runtime's plugin instances (closed when it retires). */
  links: Compiled['links'];
  /** otlp is the compiled tracing.otlp of the active configuration. */
  otlp: OtlpSettings | undefined;
  /** lastRejected is the last reload that failed validation. */
  lastRejected: RejectedReload | undefined;
  /** restartRequired lists the configured changes the running process has not applied (see restart-required.ts). */
  restartRequired: RestartNotice[] = [];
  /** started is the gateway.yaml the listeners were built from: restart notices compare against it (listen() sets it). */
  started: GatewayDoc;
  /** attempts counts reload attempts: each leaves garbage for the idle-memory release. */
  attempts = 0;
  /** lastChange is the diff summary of the last applied reload (GET /config, the dashboard); undefined before the first. */
  lastChange: LastChange | undefined;
  /** modelCache is the active configuration's diff model, built when first asked for. */
  private modelCache: { version: number; model: ConfigModel } | undefined;
  /** restartChecks are asked on every successful reload; see addRestartCheck. */
  private readonly restartChecks: RestartCheck[] = [(next) => restartNotices(this.started, next.gateway)];
  /** reloading is the reload in progress, which concurrent calls share. */
  private reloading: Promise<ReloadResult> | undefined;

  constructor(
    private readonly host: ReloadHost,
    loaded: LoadedConfig,
    compiled: Compiled,
    otlp: OtlpSettings | undefined,
  ) {
    this.loaded = loaded;
    this.runtime = compiled.runtime;
    this.links = compiled.links;
    this.otlp = otlp;
    this.started = loaded.gateway;
  }

  /** version is the active configuration's version (1 at start, one more per successful reload). */
  get version(): number {
    return this.runtime.version;
  }

  /** model is the active configuration's diff model (src/diff; secrets fingerprinted): GET /config/model and the before side of every diff. */
  async model(): Promise<ConfigModel> {
    const { buildModel } = await loadDiff();
    if (this.modelCache?.version !== this.version) this.modelCache = { version: this.version, model: buildModel(this.loaded) };
    return this.modelCache.model;
  }

  /**
   * dryRun loads and validates the files on disk and diffs them against the
   * active configuration without compiling or applying anything (POST
   * /reload?dryRun=1). Plugin options are checked when a reload compiles them.
   */
  async dryRun(): Promise<DryRunResult> {
    try {
      const { checkedModel, diffModels } = await loadDiff();
      const next = checkedModel(await loadConfig(this.host.options));
      return { ok: true, dryRun: true, applied: false, version: this.version, diff: diffModels(await this.model(), next) };
    } catch (err) {
      if (err instanceof ConfigInvalid) return { ok: false, dryRun: true, errors: err.errors };
      throw err;
    }
  }

  /** addRestartCheck adds a check run on every successful reload (see Gateway.addRestartCheck). */
  addRestartCheck(check: RestartCheck): void {
    this.restartChecks.push(check);
  }

  /**
   * reload loads and validates the configuration again and swaps it in only
   * when it is valid in full; concurrent calls share one reload.
   */
  reload(): Promise<ReloadResult> {
    this.reloading ??= this.attempt().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async attempt(): Promise<ReloadResult> {
    const { host } = this;
    this.attempts++;
    let loaded: LoadedConfig;
    let compiled: Compiled;
    let otlp: OtlpSettings | undefined;
    let pluginsReloaded: string[];
    try {
      loaded = await loadConfig(host.options);
      checkRegistryOptions(loaded);
      otlp = otlpOf(loaded, host.options);
      // Custom plugins whose files changed are imported afresh (their names are in the result and the log line).
      pluginsReloaded = (await host.plugins.refresh(loaded)).filter((p) => p.changed).map((p) => p.name);
      const registry = host.registry?.();
      compiled = await compileRuntime(loaded, {
        ...(registry ? { registry } : {}),
        version: this.version + 1,
        log: host.log,
        now: host.now,
        previous: this.runtime,
        buildChain: host.plugins.chainBuilder(),
        baseDir: loaded.baseDir,
      });
    } catch (err) {
      return this.rejected(err);
    }
    const restartRequired = await this.checkRestart(loaded);
    const changes = summarizeReload({ loaded: this.loaded, sources: this.runtime.sources }, { loaded, sources: compiled.runtime.sources });
    const modelBefore = await this.model();
    const diff = await loadDiff();
    const oldLinks = this.links;
    this.loaded = loaded;
    this.runtime = compiled.runtime; // the swap: one reference
    this.links = compiled.links;
    this.otlp = otlp;
    const starting = host.applied(compiled);
    this.rememberChange(diff, modelBefore, loaded);
    for (const u of compiled.retired) u.dispose();
    // Old pools and plugin instances finish their in-flight work before closing.
    void Promise.all(compiled.retiredTargets.map((t) => t.close()));
    void Promise.all(oldLinks.map((l) => Promise.resolve(l.hooks.close?.()).catch(() => undefined)));
    host.metrics.count('config_reload', { result: 'ok' });
    // The files no longer hold what was rejected: say so instead of showing a stale failure.
    if (this.lastRejected && this.lastRejected.supersededBy === undefined) this.lastRejected.supersededBy = this.version;
    this.restartRequired = restartRequired;
    const reloadedCode = pluginsReloaded.length > 0 ? { pluginsReloaded } : {};
    host.log.info({ version: this.version, routeCount: compiled.runtime.routes.length, ...changes, ...reloadedCode }, `configuration reloaded (${describeSummary(changes)})`);
    if (restartRequired.length > 0) {
      host.log.warn({ restartRequired }, `configuration reloaded, but these changes wait for a restart (the old values stay in use): ${restartRequired.map((n) => n.key).join(', ')}`);
    }
    // A stream listener the reload added is bound before the reload answers: a client told "reloaded" can connect.
    await starting;
    return { ok: true, version: this.version, changes, restartRequired, ...reloadedCode };
  }

  /** rememberChange keeps the applied change's diff summary; a diff that fails is logged and never fails the reload it describes. */
  private rememberChange({ buildModel, diffModels, summarize }: typeof import('../diff/index.js'), before: ConfigModel, loaded: LoadedConfig): void {
    try {
      const after = buildModel(loaded);
      this.modelCache = { version: this.version, model: after };
      this.lastChange = { version: this.version, at: new Date(), summary: summarize(diffModels(before, after)) };
    } catch (err) {
      this.lastChange = undefined;
      this.host.log.warn({ err }, 'the diff of the applied reload failed');
    }
  }

  /** rejected remembers and reports a reload that failed; the previous configuration keeps serving. */
  private rejected(err: unknown): ReloadResult {
    const errors = err instanceof ConfigInvalid ? err.errors : [];
    const text = err instanceof ConfigInvalid ? errors.map((e) => e.format()) : [String((err as Error)?.message ?? err)];
    this.lastRejected = { at: new Date(), errors: text };
    this.host.log.error({ errors: text }, 'configuration rejected; the previous configuration keeps serving');
    this.host.metrics.count('config_reload', { result: 'failed' });
    return { ok: false, errors };
  }

  /** checkRestart runs every restart check; a failing check is logged and leaves its notices out, never failing the reload. */
  private async checkRestart(loaded: LoadedConfig): Promise<RestartNotice[]> {
    const out: RestartNotice[] = [];
    for (const check of this.restartChecks) {
      try {
        out.push(...(await check(loaded)));
      } catch (err) {
        this.host.log.error({ err }, 'restart check failed');
      }
    }
    return out;
  }
}

/** envOf is where OTEL_* variables are read: the environment the configuration's `${VAR}` come from. */
function envOf(options: LoadOptions): Env {
  return (options as { env?: Env }).env ?? process.env;
}

/** otlpOf compiles a loaded configuration's tracing.otlp (at start and at each reload). */
export function otlpOf(loaded: LoadedConfig, options: LoadOptions): OtlpSettings | undefined {
  return otlpSettings(loaded.gateway.tracing, envOf(options), { file: loaded.gatewayFile ?? INLINE_GATEWAY, locate: loaded.locateGateway });
}
