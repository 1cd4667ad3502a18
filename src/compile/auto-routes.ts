/**
 * Automatic routes (`discovery.autoRoutes`), Zuul's default mapping: every
 * application of the gateway's own registry is routed under a prefix without
 * a route file, `/services/orders/x` → application ORDERS as `/x`, through a
 * pool `auto:ORDERS` that discovers from the registry (round-robin, passive
 * outlier detection: the schema defaults of an upstream).
 *
 * Applications come and go while the gateway runs, so the table is not part
 * of the compiled trie: it is a map from the upper-cased first segment under
 * the prefix to a route, filled from the registry's change events, and the
 * request path asks it only when no route-file route matched (explicit routes
 * always win). An application with no instance at all has no route (the
 * normal 404); one whose instances are all DOWN keeps its pool (the 503).
 * Pools and routes are built by the same helpers as route files' (compile.ts).
 */
import { Value } from '@sinclair/typebox/value';
import type { AutoRoutesDoc } from '../config/discover.js';
import { UpstreamSchema, type RouteDoc, type UpstreamDoc } from '../config/schema.js';
import type { RegistrySource } from '../discovery/index.js';
import type { ChainLink } from '../plugins/chain.js';
import type { CompiledRoute, RouteFallback } from '../proxy/runtime.js';
import { compileMatch } from '../routing/route-match.js';
import type { StickySecret } from '../upstream/sticky.js';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { assembleRoute, buildUpstream, type BuildContext, type DnsDiscovery, type RouteDefaults } from './build.js';

/** AUTO_SOURCE is the `file` of an automatic route: /routes and `switchyard routes` show it as the route's source. */
export const AUTO_SOURCE = 'auto';

/** AUTO_POOL_PREFIX starts the name of every automatic pool (`auto:ORDERS`); route files cannot declare such a name. */
export const AUTO_POOL_PREFIX = 'auto:';

/** AutoRouteEnv is what building one application's route needs, fixed when the configuration compiles. */
export interface AutoRouteEnv {
  ctx: BuildContext;
  secret: StickySecret;
  dns: DnsDiscovery;
  /** chain is the global chain's instances, shared by every automatic route. */
  chain: ChainLink[];
  defaults: RouteDefaults;
}

/** WirePool starts a freshly built pool: health checks, outlier detection, its provider (compile/health-wiring.ts). */
export type WirePool = (upstream: Upstream, doc: UpstreamDoc) => void;

interface AutoRoute {
  route: CompiledRoute;
  doc: UpstreamDoc;
}

/** autoUpstreamDoc is the validated upstream doc of an application's pool: `discover: { registry: APP }` with the schema defaults. */
export function autoUpstreamDoc(app: string): UpstreamDoc {
  const doc = { discover: { registry: app } } as UpstreamDoc;
  Value.Default(UpstreamSchema, doc);
  return doc;
}

/**
 * AutoRoutes is one configuration's automatic routes. Building it starts
 * nothing (a rejected reload throws it away); start() subscribes to the
 * registry and takes over the previous configuration's pools, so a reload
 * keeps connections and health of every application's pool.
 */
export class AutoRoutes implements RouteFallback {
  readonly prefix: string;
  readonly pluginNames: readonly string[];
  private readonly byApp = new Map<string, AutoRoute>();
  private unsubscribe: (() => void) | undefined;
  private wire: WirePool | undefined;
  private stopped = false;

  constructor(
    doc: AutoRoutesDoc,
    private readonly source: RegistrySource,
    private readonly env: AutoRouteEnv,
    /** previous is the serving configuration's automatic routes, whose pools start() takes over. */
    private previous: AutoRoutes | undefined,
  ) {
    this.prefix = doc.prefix;
    this.pluginNames = env.chain.map((l) => l.name);
  }

  /** match returns the route of `{prefix}/{app}[/...]` for a normalized path, or undefined (unknown application: 404). */
  match(path: string): CompiledRoute | undefined {
    const app = this.appOf(path);
    return app === undefined ? undefined : this.byApp.get(app)?.route;
  }

  /** appOf names the application a path under the prefix addresses (upper case), or undefined. */
  appOf(path: string): string | undefined {
    const p = this.prefix;
    if (path.length <= p.length + 1 || path.charCodeAt(p.length) !== 47 || !path.startsWith(p)) return undefined;
    let end = path.indexOf('/', p.length + 1);
    if (end === -1) end = path.length;
    return path.slice(p.length + 1, end).toUpperCase();
  }

  /**
   * preview is the route a path under the prefix would take were its
   * application registered (for `switchyard explain`, which runs no
   * registry): its pool is built but never started, so it stays empty.
   */
  preview(path: string): CompiledRoute | undefined {
    const app = this.appOf(path);
    if (app === undefined || !/^[A-Z0-9][A-Z0-9._-]*$/.test(app)) return undefined;
    return this.match(path) ?? this.build(app, undefined).route;
  }

  /** routes lists the current automatic routes, one per application, by name. */
  routes(): CompiledRoute[] {
    return [...this.byApp.values()].map((a) => a.route).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** upstreams lists the current automatic pools. */
  upstreams(): Upstream[] {
    return this.routes().map((r) => r.upstream);
  }

  /** start follows the registry: an application with instances gets its route at once, one without loses it. */
  start(wire: WirePool): void {
    if (this.wire !== undefined || this.stopped) return;
    this.wire = wire;
    const inherited = this.previous?.handOver() ?? new Map<string, AutoRoute>();
    this.previous = undefined;
    this.unsubscribe = this.source.onChange((app) => this.sync(app, undefined));
    for (const app of this.source.apps()) {
      const key = app.toUpperCase();
      this.sync(key, inherited.get(key));
      inherited.delete(key);
    }
    for (const a of inherited.values()) retire(a.route.upstream, new Set());
  }

  /** stop unsubscribes and retires every pool (the gateway closes, or a reload turned autoRoutes off); resolves once their connections closed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    // Never started: the previous configuration's pools are still its own.
    if (this.wire === undefined) return;
    const closing = [...this.byApp.values()].map((a) => retire(a.route.upstream, new Set()));
    this.byApp.clear();
    await Promise.all(closing);
  }

  /** handOver stops following the registry and gives this configuration's pools to the next one. */
  private handOver(): Map<string, AutoRoute> {
    this.stopped = true;
    this.unsubscribe?.();
    const out = new Map(this.byApp);
    this.byApp.clear();
    return out;
  }

  /** sync brings one application's route in line with the registry (a failing read changes nothing: the last state stays). */
  private sync(app: string, inherited: AutoRoute | undefined): void {
    if (this.stopped) return;
    const key = app.toUpperCase();
    let count: number;
    try {
      count = this.source.instances(key).length;
    } catch {
      if (inherited) this.byApp.set(key, this.rebuildRoute(key, inherited));
      return;
    }
    const current = this.byApp.get(key);
    if (count === 0) {
      if (current) {
        this.byApp.delete(key);
        retire(current.route.upstream, new Set());
      }
      if (inherited) retire(inherited.route.upstream, new Set());
      return;
    }
    if (current) return;
    try {
      this.byApp.set(key, this.build(key, inherited));
    } catch (err) {
      // A name no path can address (the registry takes what clients send): that application gets no route, the others keep theirs.
      this.env.ctx.log.warn({ app: key, err }, `discovery.autoRoutes: no automatic route for application ${JSON.stringify(key)}`);
    }
  }

  /** rebuildRoute gives an inherited pool this configuration's route (prefix, chain). */
  private rebuildRoute(app: string, inherited: AutoRoute): AutoRoute {
    return { route: this.routeFor(app, inherited.route.upstream), doc: inherited.doc };
  }

  /** build makes (or takes over) an application's pool and its route. */
  private build(app: string, inherited: AutoRoute | undefined): AutoRoute {
    const { ctx, secret, dns } = this.env;
    const doc = autoUpstreamDoc(app);
    const carried = new Set<Target>();
    const built = buildUpstream(`${AUTO_POOL_PREFIX}${app}`, doc, inherited?.route.upstream, ctx, carried, secret, dns);
    if (built.fresh) {
      if (inherited) retire(inherited.route.upstream, carried);
      // Unwired only for preview(): a pool nothing serves from.
      this.wire?.(built.upstream, doc);
    }
    return { route: this.routeFor(app, built.upstream), doc };
  }

  private routeFor(app: string, upstream: Upstream): CompiledRoute {
    const id = `${AUTO_POOL_PREFIX}${app}`;
    const r = { id, match: { path: `${this.prefix}/${app.toLowerCase()}/*` }, upstream: id, stripPrefix: true, websocket: true } as RouteDoc;
    return assembleRoute(r, compileMatch(r.match), undefined, { file: AUTO_SOURCE, line: 0 }, upstream, this.env.chain, this.env.defaults);
  }
}

/** retire stops a pool and closes its connections (in-flight requests finish first), except targets a successor carries. */
function retire(upstream: Upstream, carried: ReadonlySet<Target>): Promise<unknown> {
  upstream.dispose();
  return Promise.all(upstream.targets.filter((t) => !carried.has(t)).map((t) => t.close()));
}
