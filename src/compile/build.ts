/**
 * Building the parts of a runtime from validated docs: a pool from an
 * upstream doc (reusing the previous pool, or its unchanged targets) and a
 * route from a route doc. Route files (compile.ts) and automatic routes
 * (auto-routes.ts) build theirs here alike, so they serve alike.
 */
import type { Logger } from 'pino';
import { createBalancer } from '../balancing/index.js';
import { parseDuration } from '../config/duration.js';
import type { RouteDoc, UpstreamDoc } from '../config/schema.js';
import type { createProvider, DnsOptions, RegistrySource } from '../discovery/index.js';
import type { ChainLink } from '../plugins/chain.js';
import { compileChain } from '../plugins/chain.js';
import type { compileWebSocketOrigins } from '../proxy/ws-origin.js';
import type { CompiledRoute } from '../proxy/runtime.js';
import type { CompiledSplit } from '../proxy/split-plan.js';
import type { CompiledMirror } from '../proxy/mirror-state.js';
import type { CompiledMatch } from '../routing/route-match.js';
import { Target, targetId, type TargetPoolOptions } from '../upstream/target.js';
import { upstreamTls } from '../upstream/tls.js';
import { Upstream, type UpstreamSettings } from '../upstream/upstream.js';
import { Sticky, type StickySecret } from '../upstream/sticky.js';

/** BuildContext is what building a pool needs from the gateway. */
export interface BuildContext {
  log: Logger;
  now: () => number;
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

/**
 * DnsDiscovery is the resolver DNS-discovered pools ask (discovery.dns), and
 * its digest for pool keys. `providers` is src/discovery's provider factory
 * with the resolver's options: compileRuntime imports src/discovery only for
 * a configuration with a `discover:` pool or automatic routes, so a gateway
 * with fixed targets never loads it (undefined then).
 */
export interface DnsDiscovery {
  key: string;
  providers: { create: typeof createProvider; dns: DnsOptions } | undefined;
}

/** discoverWith creates a `discover:` pool's provider from the loaded factory. */
function discoverWith(providers: NonNullable<DnsDiscovery['providers']>, discover: NonNullable<UpstreamDoc['discover']>, logger: Logger, registry: RegistrySource | undefined) {
  return providers.create(discover, { logger, ...(registry ? { registry } : {}), dns: providers.dns });
}

/** providersOf is the provider factory a `discover:` pool needs; compileRuntime loads it whenever a configuration has one. */
function providersOf(dns: DnsDiscovery): NonNullable<DnsDiscovery['providers']> {
  if (dns.providers === undefined) throw new Error('a discover: pool was built without src/discovery loaded (compileRuntime decides that from the configuration)');
  return dns.providers;
}

/** configuredTargets builds a `targets:` list, reusing the previous pool's unchanged targets. */
function configuredTargets(list: NonNullable<UpstreamDoc['targets']>, prev: Upstream | undefined, poolKey: string, opts: TargetPoolOptions, ctx: BuildContext, carried: Set<Target>): Target[] {
  return list.map((t, i) => {
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
}

/**
 * seededTargets starts a rebuilt `discover:` pool with the set its running
 * provider last reported (same `discover:`), so a reload never empties it,
 * not even until the new provider's first answer (a DNS lookup, an Eureka
 * poll). Unchanged targets are carried over as they are; the new provider's
 * first set then applies like any later one.
 */
function seededTargets(doc: UpstreamDoc, prev: Upstream | undefined, poolKey: string, opts: TargetPoolOptions, carried: Set<Target>): Target[] {
  if (doc.discover === undefined || prev?.discovery === undefined || prev.discovery.subject !== stableKey(doc.discover)) return [];
  return prev.targets
    .filter((o) => !o.retiring)
    .map((o, i) => {
      let t = o;
      if (o.poolKey !== poolKey || carried.has(o)) {
        t = new Target(new URL(o.id), o.weight, i, poolKey, opts);
        t.source = o.source;
        t.sourceStatus = o.sourceStatus;
        t.readySince = o.readySince;
      }
      t.index = i;
      carried.add(t);
      return t;
    });
}

/**
 * buildUpstream reuses the previous pool when its doc is unchanged, else
 * builds one (reusing unchanged targets). Route files' pools and automatic
 * routes' pools (auto-routes.ts) are built here alike.
 */
export function buildUpstream(
  name: string,
  doc: UpstreamDoc,
  prev: Upstream | undefined,
  ctx: BuildContext,
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
  const targets = doc.targets ? configuredTargets(doc.targets, prev, poolKey, opts, ctx, carried) : seededTargets(doc, prev, poolKey, opts, carried);
  const log = ctx.log.child({ upstream: name });
  // A `discover:` pool starts empty: its provider fills it once started (at commit, see wireHealth).
  const provider = doc.discover ? discoverWith(providersOf(dns), doc.discover, log, ctx.registry) : undefined;
  const upstream = new Upstream(name, key, targets, createBalancer<Target>(doc.balancer), settingsOf(doc), log, ctx.now);
  if (provider) upstream.discovery = { provider, makeTarget: (url, weight, index) => new Target(url, weight, index, poolKey, opts), subject: stableKey(doc.discover) };
  if (doc.sticky) upstream.sticky = new Sticky(name, doc.sticky.cookie, parseDuration(doc.sticky.ttl), secret);
  return { upstream, fresh: true };
}

/** RouteDefaults are what every route of one configuration inherits from gateway.yaml. */
export interface RouteDefaults {
  /** defaultBodyLimit is limits.bodyLimit. */
  defaultBodyLimit: number;
  /** sendTimeoutMs is limits.sendTimeout. */
  sendTimeoutMs: number;
}

/**
 * assembleRoute builds a CompiledRoute from a validated route doc and what
 * compiling it produced; route files and automatic routes (auto-routes.ts)
 * both build their routes here, so they serve alike.
 */
export function assembleRoute(
  r: RouteDoc,
  match: CompiledMatch,
  websocketOrigins: ReturnType<typeof compileWebSocketOrigins>,
  at: { file: string; line: number },
  upstream: Upstream,
  chainLinks: ChainLink[],
  d: RouteDefaults,
  split?: CompiledSplit,
  mirror?: CompiledMirror,
): CompiledRoute {
  const settings = upstream.settings;
  const pluginLimit = chainLinks.reduce<number | undefined>((min, l) => (l.hooks.bodyLimit === undefined ? min : Math.min(min ?? Infinity, l.hooks.bodyLimit)), undefined);
  return {
    id: r.id,
    match,
    file: at.file,
    line: at.line,
    upstream,
    split,
    stripLength: r.stripPrefix && match.prefix !== '/' ? match.prefix.length : 0,
    retry: {
      attempts: r.retry?.attempts ?? 0,
      on: new Set(r.retry?.on ?? []),
      bufferBody: r.retry?.bufferBody ?? 65536,
    },
    responseTimeoutMs: r.timeouts?.response !== undefined ? parseDuration(r.timeouts.response) : settings.responseTimeoutMs,
    idleTimeoutMs: r.timeouts?.idle !== undefined ? parseDuration(r.timeouts.idle) : settings.idleTimeoutMs,
    bodyLimit: Math.min(r.bodyLimit ?? d.defaultBodyLimit, pluginLimit ?? Infinity),
    sendTimeoutMs: d.sendTimeoutMs,
    websocket: r.websocket,
    websocketOrigins,
    chain: compileChain(chainLinks),
    pluginNames: chainLinks.map((l) => l.name),
    mirror,
  };
}
