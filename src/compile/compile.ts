/**
 * Compiling a loaded configuration into a Runtime: routes into the trie,
 * upstream docs into pools, plugin refs into chains. Everything that can be
 * decided at load is decided here, so the request path only looks things up.
 * Upstreams whose doc did not change are carried over from the previous
 * Runtime as they are (health, counters, balancer position, connections).
 */
import type { Logger } from 'pino';
import { createBalancer } from '../balancing/index.js';
import { parseDuration } from '../config/duration.js';
import { ConfigError, ConfigInvalid, errorAt, type Locate } from '../config/errors.js';
import { INLINE_GATEWAY, type LoadedConfig } from '../config/load.js';
import type { PluginRefDoc, UpstreamDoc } from '../config/schema.js';
import { createProvider, DiscoveryConfigError, dnsOptionsFromDoc, type DnsOptions, type RegistrySource } from '../discovery/index.js';
import { compileMatch, type CompiledMatch } from '../routing/route-match.js';
import { Router } from '../routing/router.js';
import { Target, targetId, type TargetPoolOptions } from '../upstream/target.js';
import { upstreamTls } from '../upstream/tls.js';
import { Upstream, type UpstreamSettings } from '../upstream/upstream.js';
import { Sticky, stickySecret, type StickySecret } from '../upstream/sticky.js';
import type { ChainLink } from '../plugins/chain.js';
import { compileChain } from '../plugins/chain.js';
import { compileWebSocketOrigins } from '../proxy/ws-origin.js';
import type { CompiledRoute, Runtime, SourceFile } from '../proxy/runtime.js';

/** ChainBuilder instantiates plugin refs (global chain + a route's own) into chain links. */
export type ChainBuilder = (refs: ReadonlyArray<{ ref: PluginRefDoc; file: string; path: (string | number)[]; locate: Locate }>, routeId: string) => Promise<ChainLink[]>;

/** CompileContext is what compilation needs from the gateway. */
export interface CompileContext {
  version: number;
  log: Logger;
  now: () => number;
  previous: Runtime | undefined;
  buildChain: ChainBuilder;
  /** baseDir resolves relative file paths (gateway.yaml's directory). */
  baseDir: string;
  /**
   * registry is the gateway's own registry, for `discover: { registry }` pools
   * (undefined when the gateway runs none). It is read only once a pool's
   * provider starts, at commit, so it may be a view of a registry that starts
   * at listen().
   */
  registry?: RegistrySource;
}

/** Compiled is a Runtime plus what must be done to make it live or throw it away. */
export interface Compiled {
  runtime: Runtime;
  /** fresh lists upstreams built by this compile (their health checks start on commit). */
  fresh: Upstream[];
  /** retired lists previous upstreams the new runtime no longer uses. */
  retired: Upstream[];
  /** retiredTargets lists previous targets no new upstream carries over. */
  retiredTargets: Target[];
  /** links lists every plugin instance created (closed when this runtime retires). */
  links: ChainLink[];
}

/** stableKey is a deterministic digest key of a JSON value (object keys sorted). */
export function stableKey(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(stableKey).join(',') + ']';
  const o = v as Record<string, unknown>;
  return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + stableKey(o[k])).join(',') + '}';
}

function poolOptions(doc: UpstreamDoc, baseDir: string): TargetPoolOptions {
  const ka = doc.keepAlive ?? { connections: 128, idle: '4s', pipelining: 1 };
  return {
    connections: ka.connections,
    pipelining: ka.pipelining,
    keepAliveMs: parseDuration(ka.idle),
    connectTimeoutMs: parseDuration(doc.timeouts?.connect ?? '5s'),
    tls: upstreamTls(doc, baseDir),
  };
}

function settingsOf(doc: UpstreamDoc): UpstreamSettings {
  return {
    hostHeader: doc.hostHeader,
    connectTimeoutMs: parseDuration(doc.timeouts?.connect ?? '5s'),
    responseTimeoutMs: parseDuration(doc.timeouts?.response ?? '30s'),
    idleTimeoutMs: parseDuration(doc.timeouts?.idle ?? '60s'),
    panicThreshold: doc.panicThreshold,
    slowStartMs: parseDuration(doc.slowStart),
  };
}

/** DnsDiscovery is the resolver DNS-discovered pools ask (discovery.dns), and its digest for pool keys. */
interface DnsDiscovery {
  options: DnsOptions;
  key: string;
}

/** buildUpstream reuses the previous pool when its doc is unchanged, else builds one (reusing unchanged targets). */
function buildUpstream(
  name: string,
  doc: UpstreamDoc,
  prev: Upstream | undefined,
  ctx: CompileContext,
  carried: Set<Target>,
  secret: StickySecret,
  dns: DnsDiscovery,
): { upstream: Upstream; fresh: boolean } {
  // A new sticky secret rebuilds the pool (keeping its targets), so cookies are checked with the new key.
  let key = doc.sticky ? `${stableKey(doc)}\0${secret.fingerprint}` : stableKey(doc);
  // A DNS-discovered pool also depends on the resolver it asks (discovery.dns): a change rebuilds it.
  const usesDns = doc.discover !== undefined && (doc.discover.dns !== undefined || doc.discover.dnsSrv !== undefined);
  if (usesDns) key = `${key}\0dns:${dns.key}`;
  if (prev && prev.key === key) {
    for (const t of prev.targets) carried.add(t);
    return { upstream: prev, fresh: false };
  }
  const opts = poolOptions(doc, ctx.baseDir);
  const poolKey = stableKey(opts);
  const targets = (doc.targets ?? []).map((t, i) => {
    const url = new URL(t.url);
    const old = prev?.targets.find((o) => o.id === targetId(url) && o.poolKey === poolKey && !carried.has(o));
    if (old) {
      old.index = i;
      old.weight = t.weight;
      carried.add(old);
      return old;
    }
    const fresh = new Target(url, t.weight, i, poolKey, opts);
    // A target added to a pool that already serves ramps up (slow start); the
    // targets of a brand-new pool all start together, so none is favoured.
    if (prev !== undefined) fresh.readySince = ctx.now();
    carried.add(fresh);
    return fresh;
  });
  const log = ctx.log.child({ upstream: name });
  // A `discover:` pool starts empty: its provider fills it once started (at commit, see wireHealth).
  const provider = doc.discover ? createProvider(doc.discover, { logger: log, ...(ctx.registry ? { registry: ctx.registry } : {}), dns: dns.options }) : undefined;
  const upstream = new Upstream(name, key, targets, createBalancer<Target>(doc.balancer), settingsOf(doc), log, ctx.now);
  if (provider) upstream.discovery = { provider, makeTarget: (url, weight, index) => new Target(url, weight, index, poolKey, opts) };
  if (doc.sticky) upstream.sticky = new Sticky(name, doc.sticky.cookie, parseDuration(doc.sticky.ttl), secret);
  return { upstream, fresh: true };
}

/** compileRuntime turns a loaded configuration into a Runtime; throws ConfigInvalid. */
export async function compileRuntime(loaded: LoadedConfig, ctx: CompileContext): Promise<Compiled> {
  const errors: ConfigError[] = [];
  const prevUpstreams = ctx.previous?.upstreams;
  const upstreams = new Map<string, Upstream>();
  const docs = new Map<string, UpstreamDoc>();
  const fresh: Upstream[] = [];
  const carried = new Set<Target>();
  const secret = stickySecret(loaded.gateway.stickySecret);
  const dnsDoc = loaded.gateway.discovery?.dns;
  const dns: DnsDiscovery = { options: dnsOptionsFromDoc(dnsDoc), key: stableKey(dnsDoc ?? null) };
  for (const f of loaded.files) {
    for (const [name, doc] of Object.entries(f.doc.upstreams ?? {})) {
      let built: { upstream: Upstream; fresh: boolean };
      try {
        built = buildUpstream(name, doc, prevUpstreams?.get(name), ctx, carried, secret, dns);
      } catch (err) {
        if (!(err instanceof DiscoveryConfigError)) throw err;
        const late = loaded.gateway.discovery?.registry !== undefined && ctx.registry === undefined;
        const message = late ? `${err.message} (discovery.registry was added after the gateway started: it starts at the next restart)` : err.message;
        errors.push(errorAt({ file: f.file, locate: f.locate }, ['upstreams', name, 'discover'], message));
        continue;
      }
      upstreams.set(name, built.upstream);
      docs.set(name, doc);
      if (built.fresh) fresh.push(built.upstream);
    }
  }

  const gw = loaded.gateway;
  const defaultBodyLimit = gw.limits?.bodyLimit ?? 10 * 1024 * 1024;
  const sendTimeoutMs = parseDuration(gw.limits?.sendTimeout ?? '60s');
  const globalRefs = (gw.chain ?? []).map((ref, i) => ({ ref, file: loaded.gatewayFile ?? INLINE_GATEWAY, path: ['chain', i], locate: loaded.locateGateway }));
  const routes: CompiledRoute[] = [];
  // A Set: global chain instances are shared by every route and must be closed once.
  const linkSet = new Set<ChainLink>();
  for (const f of loaded.files) {
    const list = f.doc.routes ?? [];
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      const at = (path: (string | number)[]) => {
        const pos = f.locate(path);
        return { file: f.file, line: pos.line, col: pos.col, path: path.join('.').replace(/\.(\d+)/g, '[$1]') };
      };
      let match: CompiledMatch;
      try {
        match = compileMatch(r.match);
      } catch (err) {
        errors.push(new ConfigError({ ...at(['routes', i, 'match', 'path']), message: (err as Error).message }));
        continue;
      }
      let websocketOrigins: ReturnType<typeof compileWebSocketOrigins>;
      try {
        websocketOrigins = compileWebSocketOrigins(r.websocketOrigins);
      } catch (err) {
        errors.push(new ConfigError({ ...at(['routes', i, 'websocketOrigins']), message: (err as Error).message }));
        continue;
      }
      const upstream = upstreams.get(r.upstream);
      if (!upstream) continue; // reported by the loader
      const settings = upstream.settings;
      const routeRefs = (r.plugins ?? []).map((ref, j) => ({ ref, file: f.file, path: ['routes', i, 'plugins', j], locate: f.locate }));
      let chainLinks: ChainLink[] = [];
      try {
        chainLinks = await ctx.buildChain([...globalRefs, ...routeRefs], r.id);
        for (const l of chainLinks) linkSet.add(l);
      } catch (err) {
        if (err instanceof ConfigInvalid) errors.push(...err.errors);
        else throw err;
        continue;
      }
      const pluginLimit = chainLinks.reduce<number | undefined>((min, l) => (l.hooks.bodyLimit === undefined ? min : Math.min(min ?? Infinity, l.hooks.bodyLimit)), undefined);
      routes.push({
        id: r.id,
        match,
        file: f.file,
        line: f.locate(['routes', i]).line,
        upstream,
        stripLength: r.stripPrefix && match.prefix !== '/' ? match.prefix.length : 0,
        retry: {
          attempts: r.retry?.attempts ?? 0,
          on: new Set(r.retry?.on ?? []),
          bufferBody: r.retry?.bufferBody ?? 65536,
        },
        responseTimeoutMs: r.timeouts?.response !== undefined ? parseDuration(r.timeouts.response) : settings.responseTimeoutMs,
        idleTimeoutMs: r.timeouts?.idle !== undefined ? parseDuration(r.timeouts.idle) : settings.idleTimeoutMs,
        bodyLimit: Math.min(r.bodyLimit ?? defaultBodyLimit, pluginLimit ?? Infinity),
        sendTimeoutMs,
        websocket: r.websocket,
        websocketOrigins,
        chain: compileChain(chainLinks),
        pluginNames: chainLinks.map((l) => l.name),
      });
    }
  }

  const links = [...linkSet];
  const router = new Router(routes);
  for (const { a, b } of router.ambiguities()) {
    errors.push(
      new ConfigError({
        file: b.file,
        line: b.line,
        col: 0,
        path: `routes[id=${b.id}]`,
        message: `route "${b.id}" is ambiguous with route "${a.id}" (${a.file}:${a.line}): same path and as many conditions, and a request could match both; add a condition or change a path`,
      }),
    );
  }
  if (errors.length > 0) {
    // Nothing of this attempt may stay alive: close fresh pools and plugin instances.
    await discard(fresh, links, carried, ctx.previous);
    throw new ConfigInvalid(errors);
  }

  const retired = prevUpstreams ? [...prevUpstreams.values()].filter((u) => upstreams.get(u.name) !== u) : [];
  const retiredTargets = retired.flatMap((u) => u.targets).filter((t) => !carried.has(t));
  const sources: SourceFile[] = [
    ...(loaded.gatewayFile ? [{ file: loaded.gatewayFile, hash: loaded.gatewayHash ?? '' }] : []),
    ...loaded.files.map((f) => ({ file: f.file, hash: f.hash })),
  ];
  const trace = gw.tracing.enabled ? { sampled: gw.tracing.sampled } : undefined;
  const invalidHeaders = gw.limits?.invalidHeaders ?? 'drop';
  const runtime: Runtime = { version: ctx.version, loadedAt: new Date(), router, routes, upstreams, sources, trace, invalidHeaders };
  void docs;
  return { runtime, fresh, retired, retiredTargets, links };
}

/** discard releases what a failed compile created, leaving the previous runtime's objects alone. */
async function discard(fresh: Upstream[], links: ChainLink[], carried: Set<Target>, previous: Runtime | undefined): Promise<void> {
  const live = new Set<Target>();
  for (const u of previous?.upstreams.values() ?? []) for (const t of u.targets) live.add(t);
  await Promise.all([
    ...[...carried].filter((t) => !live.has(t)).map((t) => t.close()),
    ...links.map(async (l) => {
      try {
        await l.hooks.close?.();
      } catch {
        /* closing a half-built plugin must not mask the config error */
      }
    }),
  ]);
  void fresh;
}
