/**
 * The compiled configuration a request is served by. A reload builds a new
 * Runtime and swaps one reference; each request reads that reference once, so
 * it is served wholly by the old or wholly by the new configuration.
 */
import type { Router, Routable } from '../routing/router.js';
import type { CompiledMatch } from '../routing/route-match.js';
import type { Upstream } from '../upstream/upstream.js';
import type { PluginChain } from '../plugins/chain.js';
import type { OriginMatcher } from '../http/origins.js';
import type { TraceOptions } from '../http/trace-context.js';
import type { InvalidHeaders } from '../http/header-names.js';
import type { CompiledSplit } from './split-plan.js';
import type { CompiledMirror } from './mirror-state.js';

/** RetryPolicy is a route's compiled `retry` block. */
export interface RetryPolicy {
  /** attempts is the number of extra attempts after the first. */
  attempts: number;
  /** on holds the statuses retried for idempotent methods. */
  on: ReadonlySet<number>;
  /** bufferBody is the largest body buffered so it can be replayed. */
  bufferBody: number;
}

/** CompiledRoute is a route ready to serve. */
export interface CompiledRoute extends Routable {
  readonly id: string;
  readonly match: CompiledMatch;
  /** file and line say where the route was declared. */
  readonly file: string;
  readonly line: number;
  /** upstream is the route's pool (a split's primary); a request is served by `ex.pool`, which a split may set to another. */
  readonly upstream: Upstream;
  /** split is the route's canary split (proxy/split.ts); undefined without one. */
  readonly split: CompiledSplit | undefined;
  /** stripLength is the number of leading path characters removed before proxying (0 = none). */
  readonly stripLength: number;
  readonly retry: RetryPolicy;
  readonly responseTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** sendTimeoutMs is the longest wait for a client to take more of a response (limits.sendTimeout; 0 = none). */
  readonly sendTimeoutMs: number;
  readonly bodyLimit: number;
  readonly websocket: boolean;
  /** websocketOrigins are the other origins whose pages may open WebSockets here (see proxy/ws-origin.ts); undefined = none listed. */
  readonly websocketOrigins: OriginMatcher | undefined;
  readonly chain: PluginChain;
  /** pluginNames lists the chain as configured (global first), for the admin API and explain. */
  readonly pluginNames: readonly string[];
  /** mirror sends shadow copies of sampled requests (proxy/mirror.ts); undefined = none. */
  readonly mirror: CompiledMirror | undefined;
}

/** SourceFile describes a loaded config file (admin /config). */
export interface SourceFile {
  file: string;
  hash: string;
}

/**
 * RouteFallback is a table of routes asked only when no compiled route
 * matches (discovery.autoRoutes: explicit routes always win). Its routes may
 * change while the configuration serves (applications register and expire).
 */
export interface RouteFallback {
  /** prefix is the path prefix the table covers. */
  readonly prefix: string;
  /** pluginNames is the chain every one of its routes runs (the global chain). */
  readonly pluginNames: readonly string[];
  /** match returns the route for a normalized path, or undefined (404). */
  match(path: string): CompiledRoute | undefined;
  /** routes lists its routes now. */
  routes(): readonly CompiledRoute[];
  /** upstreams lists its pools now. */
  upstreams(): readonly Upstream[];
}

/** Runtime is one immutable configuration version. */
export interface Runtime {
  readonly version: number;
  readonly loadedAt: Date;
  readonly router: Router<CompiledRoute>;
  readonly routes: readonly CompiledRoute[];
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly sources: readonly SourceFile[];
  /**
   * trace is gateway.yaml's `tracing` propagation settings (undefined =
   * propagation off). Here, not in the listener, so a reload turns tracing on
   * or off and changes the sampled flag for the next request, at no cost.
   */
  readonly trace: TraceOptions | undefined;
  /** invalidHeaders is gateway.yaml's `limits.invalidHeaders` (proxy/header-names.ts); here so a reload changes it for the next request. */
  readonly invalidHeaders: InvalidHeaders;
  /** autoRoutes is discovery.autoRoutes, asked when no route matched; undefined when off. */
  readonly autoRoutes?: RouteFallback;
}

/** pools lists every pool a runtime serves from: the route files' and, after them, the automatic routes' (auto:APP). */
export function pools(rt: Runtime): Upstream[] {
  const auto = rt.autoRoutes?.upstreams();
  return auto && auto.length > 0 ? [...rt.upstreams.values(), ...auto] : [...rt.upstreams.values()];
}

/** poolNamed finds a pool by name among the route files' and the automatic ones (whose names, auto:APP, no route file can use). */
export function poolNamed(rt: Runtime, name: string): Upstream | undefined {
  return rt.upstreams.get(name) ?? rt.autoRoutes?.upstreams().find((u) => u.name === name);
}
