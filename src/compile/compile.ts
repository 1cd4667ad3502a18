/**
 * Compiling a loaded configuration into a Runtime: routes into the trie,
 * upstream docs into pools, plugin refs into chains. Everything that can be
 * decided at load is decided here, so the request path only looks things up.
 * Upstreams whose doc did not change are carried over from the previous
 * Runtime as they are (health, counters, balancer position, connections).
 * Pools and routes are built by build.ts; discovery.autoRoutes, whose routes
 * follow the registry while the runtime serves, by auto-routes.ts.
 */
import { ConfigError, ConfigInvalid, errorAt, type Locate } from '../config/errors.js';
import { parseDuration } from '../config/duration.js';
import { INLINE_GATEWAY, type LoadedConfig } from '../config/load.js';
import type { PluginRefDoc, UpstreamDoc } from '../config/schema.js';
import { compileMatch, type CompiledMatch } from '../routing/route-match.js';
import { pathCovers } from '../routing/explain.js';
import { Router } from '../routing/router.js';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { stickySecret } from '../upstream/sticky.js';
import type { ChainLink } from '../plugins/chain.js';
import { compileWebSocketOrigins } from '../proxy/ws-origin.js';
import type { CompiledRoute, Runtime, SourceFile } from '../proxy/runtime.js';
import { AutoRoutes } from './auto-routes.js';
import { compileSplit } from './split.js';
import type { CompiledSplit } from '../proxy/split-plan.js';
import { compileMirror, mirrorGate, type MirrorContext } from './mirror.js';
import { assembleRoute, buildUpstream, type BuildContext, type DnsDiscovery, type RouteDefaults } from './build.js';

import { stableKey } from './build.js';

export { stableKey };

/** ChainBuilder instantiates plugin refs (global chain + a route's own) into chain links. */
export type ChainBuilder = (refs: ReadonlyArray<{ ref: PluginRefDoc; file: string; path: (string | number)[]; locate: Locate }>, routeId: string) => Promise<ChainLink[]>;

/** CompileContext is what compilation needs from the gateway. */
export interface CompileContext extends BuildContext {
  version: number;
  previous: Runtime | undefined;
  buildChain: ChainBuilder;
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
  /** auto is the runtime's automatic routes (discovery.autoRoutes), started on commit; undefined when off. */
  auto: AutoRoutes | undefined;
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
  // src/discovery (providers: Eureka, the registry, DNS, SRV) only when some pool can use it (see DnsDiscovery).
  const discovery = usesDiscovery(loaded) ? await import('../discovery/index.js') : undefined;
  const providers = discovery && { create: discovery.createProvider, dns: discovery.dnsOptionsFromDoc(dnsDoc) };
  const dns: DnsDiscovery = { key: stableKey(dnsDoc ?? null), providers };
  for (const f of loaded.files) {
    for (const [name, doc] of Object.entries(f.doc.upstreams ?? {})) {
      let built: { upstream: Upstream; fresh: boolean };
      try {
        built = buildUpstream(name, doc, prevUpstreams?.get(name), ctx, carried, secret, dns);
      } catch (err) {
        if (discovery === undefined || !(err instanceof discovery.DiscoveryConfigError)) throw err;
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
  const routeDefaults: RouteDefaults = { defaultBodyLimit, sendTimeoutMs };
  const routes: CompiledRoute[] = [];
  const mirrors: MirrorContext = { upstreams, previous: ctx.previous, gate: mirrorGate(ctx.previous), max: gw.limits?.mirrorConcurrency ?? 64, log: ctx.log };
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
      let split: CompiledSplit | undefined;
      if (r.split !== undefined) {
        split = compileSplit({ doc: r.split, routeId: r.id, primary: upstream, source: f, at: ['routes', i, 'split'], upstreams, docs }, errors);
        if (split === undefined) continue;
      }
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
      const at0 = { file: f.file, line: f.locate(['routes', i]).line };
      const mirror = compileMirror(r.mirror, { id: r.id, ...at0, bufferBody: r.retry?.bufferBody ?? 65536 }, mirrors);
      routes.push(assembleRoute(r, match, websocketOrigins, at0, upstream, chainLinks, routeDefaults, split, mirror));
    }
  }

  const auto = await compileAutoRoutes(loaded, ctx, { ctx, secret, dns, defaults: routeDefaults }, globalRefs, routes, errors, linkSet);
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
  const runtime: Runtime = { version: ctx.version, loadedAt: new Date(), router, routes, upstreams, sources, trace, invalidHeaders, ...(auto ? { autoRoutes: auto } : {}) };
  return { runtime, fresh, retired, retiredTargets, links, auto };
}

/** usesDiscovery tells whether a configuration has a `discover:` pool or automatic routes (whose pools discover from the registry). */
function usesDiscovery(loaded: LoadedConfig): boolean {
  if (loaded.gateway.discovery?.autoRoutes !== undefined) return true;
  return loaded.files.some((f) => Object.values(f.doc.upstreams ?? {}).some((u) => u.discover !== undefined));
}

/**
 * compileAutoRoutes builds `discovery.autoRoutes` (nothing live: it starts on
 * commit). It needs the registry (an error at discovery.autoRoutes
 * otherwise), and warns of route-file routes that leave it unreachable.
 */
async function compileAutoRoutes(
  loaded: LoadedConfig,
  ctx: CompileContext,
  env: Omit<ConstructorParameters<typeof AutoRoutes>[2], 'chain'>,
  globalRefs: Parameters<ChainBuilder>[0],
  routes: readonly CompiledRoute[],
  errors: ConfigError[],
  linkSet: Set<ChainLink>,
): Promise<AutoRoutes | undefined> {
  const doc = loaded.gateway.discovery?.autoRoutes;
  if (doc === undefined) return undefined;
  const where = { file: loaded.gatewayFile ?? INLINE_GATEWAY, locate: loaded.locateGateway };
  if (loaded.gateway.discovery?.registry === undefined) {
    errors.push(errorAt(where, ['discovery', 'autoRoutes'], "discovery.autoRoutes routes the applications of the gateway's own registry: set discovery.registry too"));
    return undefined;
  }
  if (ctx.registry === undefined) {
    errors.push(errorAt(where, ['discovery', 'autoRoutes'], 'discovery.autoRoutes needs the registry, and discovery.registry was added after the gateway started: it starts at the next restart'));
    return undefined;
  }
  let chain: ChainLink[];
  try {
    chain = await ctx.buildChain(globalRefs, 'auto');
    for (const l of chain) linkSet.add(l);
  } catch (err) {
    if (err instanceof ConfigInvalid) errors.push(...err.errors);
    else throw err;
    return undefined;
  }
  for (const r of routes) {
    if (shadows(r.match, doc.prefix)) {
      ctx.log.warn({ route: r.id, at: `${r.file}:${r.line}`, prefix: doc.prefix }, `route "${r.id}" (${r.file}:${r.line}) matches every request under ${doc.prefix}: discovery.autoRoutes is unreachable there (explicit routes win)`);
    }
  }
  return new AutoRoutes(doc, ctx.registry, { ...env, chain }, ctx.previous?.autoRoutes instanceof AutoRoutes ? ctx.previous.autoRoutes : undefined);
}

/** shadows tells whether a route takes every request under `prefix` (a prefix route covering it, without conditions). */
function shadows(m: CompiledMatch, prefix: string): boolean {
  if (m.exact || !pathCovers(m, prefix)) return false;
  return m.methods === undefined && m.host === undefined && m.headers.length === 0 && m.query.length === 0 && m.cookies.length === 0;
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
