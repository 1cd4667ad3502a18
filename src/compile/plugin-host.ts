/**
 * The plugin host: owns the plugin registry (built-ins plus the custom
 * plugins folder), the shared store (Redis when configured, else the embedded
 * one) and turns chain entries into plugin instances for the compiler, with
 * option errors reported at file:line like any other config error.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { issueError } from '../config/ajv-errors.js';
import { ConfigError, ConfigInvalid, formatPath } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';
import { PluginLoadError, PluginRefError, PluginRegistry, UnknownPluginError, type LoadedPlugin } from '../plugins/registry.js';
import type { ChainLink } from '../plugins/chain.js';
import type { PluginContext, PluginMetrics } from '../plugins/types.js';
import { MemoryStore } from '../stores/memory-store.js';
import type { RedisClient } from '../stores/redis-client.js';
import { RedisStore } from '../stores/redis-store.js';
import type { Store } from '../stores/store.js';
import type { ChainBuilder } from './compile.js';

/** DEFAULT_PLUGIN_DIR is gateway.yaml's default `plugins`; a missing default folder is not an error. */
const DEFAULT_PLUGIN_DIR = './plugins';

/** PluginHost creates plugin instances and owns what they share. */
export class PluginHost {
  private constructor(
    readonly registry: PluginRegistry,
    readonly store: Store,
    readonly redis: RedisClient | undefined,
    private readonly log: Logger,
    private readonly clock: { now(): number },
    private readonly metrics: PluginMetrics,
    private baseDir: string,
  ) {}

  /** create builds the registry and the store; throws ConfigInvalid when custom plugins cannot be loaded. */
  static async create(loaded: LoadedConfig, log: Logger, now: () => number, sink: PluginMetrics, offline: boolean): Promise<PluginHost> {
    const registry = new PluginRegistry();
    await loadCustom(registry, loaded);
    const url = loaded.gateway.redis?.url?.trim();
    let redis: RedisClient | undefined;
    let store: Store;
    if (url && !offline) {
      // ioredis is loaded only when Redis is configured: it is a few MB of heap a gateway without Redis never uses.
      const { createRedis } = await import('../stores/redis-client.js');
      redis = createRedis(url, log.child({ component: 'redis' }));
      redis.on('error', () => sink.count('redis_error'));
      store = new RedisStore(redis);
    } else {
      store = new MemoryStore({ now });
      if (!offline) log.info('no redis configured: sessions, rate limits and sticky data are local to this instance');
    }
    const metrics: PluginMetrics = { count: (name, labels) => sink.count(name, labels ?? {}) };
    return new PluginHost(registry, store, redis, log, { now }, metrics, loaded.baseDir);
  }

  /**
   * refresh loads the custom plugins again (a reload): new folders are
   * registered, and a plugin whose files changed on disk is imported afresh
   * so the new configuration runs its new code (src/plugins/loader.ts). Every
   * plugin whose code changed is logged, so a reload never swaps code silently.
   */
  async refresh(loaded: LoadedConfig): Promise<LoadedPlugin[]> {
    this.baseDir = loaded.baseDir;
    const plugins = await loadCustom(this.registry, loaded);
    const changed = plugins.filter((p) => p.changed);
    if (changed.length > 0) {
      this.log.warn({ plugins: changed.map((p) => ({ plugin: p.name, file: p.file, version: p.version })) }, `plugin code changed on disk: loaded the new version of ${changed.map((p) => p.name).join(', ')}`);
    }
    return plugins;
  }

  /**
   * chainBuilder returns the builder one compilation uses. Global chain
   * entries are instantiated once per compilation and shared by every route
   * (a global rate limit is one limit, not one per route); route entries are
   * instantiated per route.
   */
  chainBuilder(): ChainBuilder {
    const shared = new Map<string, Promise<ChainLink | ConfigError[]>>();
    return async (refs, routeId) => {
      const errors: ConfigError[] = [];
      const links: ChainLink[] = [];
      for (const r of refs) {
        const global = r.path[0] === 'chain';
        const key = `${r.file}\0${r.path.join('.')}`;
        let pending = global ? shared.get(key) : undefined;
        let first = false;
        if (!pending) {
          first = true;
          pending = this.instantiate(r, global ? undefined : routeId);
          if (global) shared.set(key, pending);
        }
        const out = await pending;
        if (Array.isArray(out)) {
          if (first) errors.push(...out); // a bad global entry is reported once, not once per route
        } else links.push(out);
      }
      if (errors.length > 0) throw new ConfigInvalid(errors);
      return links;
    };
  }

  private async instantiate(r: Parameters<ChainBuilder>[0][number], routeId: string | undefined): Promise<ChainLink | ConfigError[]> {
    const at = (path: (string | number)[], message: string, suggestion?: string) => {
      const pos = r.locate(path);
      return new ConfigError({ file: r.file, line: pos.line, col: pos.col, path: formatPath(path), message, suggestion });
    };
    let name: string;
    let options: unknown;
    try {
      ({ name, options } = this.registry.parseRef(r.ref));
    } catch (err) {
      if (err instanceof UnknownPluginError) return [at(r.path, `unknown plugin "${err.plugin}"`, err.suggestion)];
      if (err instanceof PluginRefError) return [at(r.path, err.message)];
      throw err;
    }
    const optionsPath = typeof r.ref === 'string' ? r.path : [...r.path, name];
    const result = this.registry.validateOptions(name, options);
    if (!result.ok) return result.errors.map((e) => issueError(r, optionsPath, e, `plugin ${name}: `));
    const ctx: PluginContext = {
      log: this.log.child(routeId === undefined ? { plugin: name } : { plugin: name, route: routeId }),
      store: this.store,
      metrics: this.metrics,
      clock: this.clock,
      routeId,
      baseDir: this.baseDir,
    };
    try {
      // A built-in's code is imported here, at its first use (src/plugins/builtins.ts); a failed import is reported like a failed create.
      const hooks = await (await this.registry.definition(name)).create(result.options as never, ctx);
      return { name, hooks };
    } catch (err) {
      return [at(optionsPath, `plugin ${name} could not start: ${(err as Error).message}`)];
    }
  }

  /** close releases the store and the Redis connection. */
  async close(): Promise<void> {
    await this.store.close();
    if (this.redis) this.redis.disconnect();
  }
}

/** loadCustom registers the custom plugins folder; reports failures as config errors on `plugins`. */
async function loadCustom(registry: PluginRegistry, loaded: LoadedConfig): Promise<LoadedPlugin[]> {
  const configured = loaded.gateway.plugins;
  const dir = resolve(loaded.baseDir, configured);
  if (configured === DEFAULT_PLUGIN_DIR && !existsSync(dir)) return [];
  try {
    return await registry.loadCustomPlugins(dir);
  } catch (err) {
    if (!(err instanceof PluginLoadError)) throw err;
    const pos = loaded.locateGateway(['plugins']);
    throw new ConfigInvalid(
      err.problems.map((p) => new ConfigError({ file: loaded.gatewayFile ?? '<inline gateway>', line: pos.line, col: pos.col, path: 'plugins', message: `${p.file}: ${p.message}` })),
    );
  }
}
