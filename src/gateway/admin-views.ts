/**
 * JSON views of the gateway's state for the admin API and the dashboard.
 * Target addresses appear here (the admin port is private), never on the public port.
 */
import type { GatewayState } from './state.js';
import { gatewayVersion } from '../process/version.js';
import { AUTO_SOURCE } from '../compile/auto-routes.js';
import { mirrorView } from '../compile/mirror.js';
import { pools } from '../proxy/runtime.js';
import { splitView } from './split-view.js';

/** upstreamsView lists every pool with per-target health and load. */
export function upstreamsView(gw: GatewayState) {
  const now = Date.now();
  return {
    // The gateway's own registry (discovery.registry): instance counts, self-preservation, store health; null when it runs none.
    registry: registryView(gw),
    upstreams: pools(gw.runtime).map((u) => ({
      name: u.name,
      balancer: u.balancer.name,
      panic: u.panic,
      eligible: u.eligible.length,
      // The provider of a `discover:` pool (kind, subject, last success, errors); null for `targets:`.
      discovery: u.discovery ? u.discovery.provider.state() : null,
      targets: u.targets.map((t) => {
        const active = u.health?.active(t);
        const passive = u.health?.passive(t);
        return {
          index: t.index,
          url: t.id,
          weight: t.weight,
          // Where a discovered target came from (registry lease age, DNS TTL); null for a configured one.
          source: t.source ?? null,
          state: t.state(now),
          ejectedUntil: t.ejectedUntil > now ? new Date(t.ejectedUntil).toISOString() : null,
          draining: t.draining,
          inflight: t.inflight,
          openWebSockets: t.openWebSockets,
          connections: t.stream ? t.inflight : t.pool.stats.connected,
          requests: t.requests,
          failures: t.failures,
          lastCheck: active?.lastResult
            ? { ok: active.lastResult.ok, reason: active.lastResult.reason, status: active.lastResult.status, durationMs: Math.round(active.lastResult.durationMs), at: new Date(active.lastResult.at).toISOString() }
            : null,
          consecutiveFailures: active?.consecutiveFailures ?? 0,
          consecutiveSuccesses: active?.consecutiveSuccesses ?? 0,
          passive: passive ? { consecutiveFailures: passive.consecutiveFailures, ejections: passive.ejections } : null,
        };
      }),
    })),
  };
}

/** registryView summarises the registry for /upstreams: what its pools are filled from, and whether eviction is suspended. */
function registryView(gw: GatewayState) {
  const s = gw.registryState();
  if (s === undefined) return null;
  const sp = s.selfPreservation;
  return {
    store: s.store,
    storeHealthy: s.storeHealthy,
    instances: s.instances,
    apps: s.apps,
    selfPreservation: { enabled: sp.enabled, active: sp.active, renewalsPerMinute: sp.renewalsPerMinute, expectedPerMinute: sp.expectedPerMinute, threshold: sp.threshold },
    evictions: s.evictions,
    lastEvictionAt: s.lastEvictionAt > 0 ? new Date(s.lastEvictionAt).toISOString() : null,
  };
}

/** routesView is the resolved routing table. */
export function routesView(gw: GatewayState) {
  const auto = gw.runtime.autoRoutes;
  return {
    version: gw.runtime.version,
    // Automatic routes (discovery.autoRoutes) come after the route files' ones, which win over them; their source is `auto`.
    routes: [...gw.runtime.routes, ...(auto?.routes() ?? [])].map((r) => ({
      id: r.id,
      source: r.file === AUTO_SOURCE && r.line === 0 ? AUTO_SOURCE : `${r.file}:${r.line}`,
      path: r.match.exact ? r.match.prefix : r.match.prefix === '/' ? '/*' : `${r.match.prefix}/*`,
      methods: r.match.methods ? [...r.match.methods] : null,
      host: r.match.host ? (r.match.host.exact ?? `*${r.match.host.suffix}`) : null,
      headers: Object.fromEntries(r.match.headers),
      query: Object.fromEntries(r.match.query),
      cookies: Object.fromEntries(r.match.cookies),
      upstream: r.upstream.name,
      // The canary split (legs, weights, overrides, key, fallback, live per-leg rates); null without one.
      split: splitView(r, gw.observer.splitTraffic),
      stripPrefix: r.stripLength > 0,
      chain: r.pluginNames,
      mirror: mirrorView(r.mirror),
    })),
    // The mapping itself, also before any application registered: `{prefix}/{app}/*` → pool auto:{APP}.
    autoRoutes: auto ? { prefix: auto.prefix, path: `${auto.prefix}/{app}/*`, upstream: 'auto:{APP}', stripPrefix: true, chain: auto.pluginNames, source: 'auto' } : null,
  };
}

/**
 * configView shows the active version, its sources, the last rejected attempt
 * (superseded once a later reload succeeded), the changes waiting for a
 * restart, and the process: gateway version, uptime, store and certificates.
 */
export function configView(gw: GatewayState) {
  const rt = gw.runtime;
  const rejected = gw.lastRejected;
  const now = Date.now();
  return {
    version: rt.version,
    loadedAt: rt.loadedAt.toISOString(),
    sources: rt.sources,
    lastRejected: rejected
      ? { at: rejected.at.toISOString(), errors: rejected.errors, superseded: rejected.supersededBy !== undefined, supersededBy: rejected.supersededBy ?? null }
      : null,
    restartRequired: gw.restartRequired,
    // The diff summary of the last applied reload (src/diff): what changed, which requests moved, the reviewer flags; null before the first.
    lastChange: gw.lastChange ? { version: gw.lastChange.version, at: gw.lastChange.at.toISOString(), ...gw.lastChange.summary } : null,
    gateway: { version: gatewayVersion(), startedAt: gw.startedAt.toISOString(), uptimeSeconds: Math.floor((now - gw.startedAt.getTime()) / 1000), pid: process.pid, node: process.version },
    store: gw.storeStatus(),
    certificates: gw.certificates(),
    streams: gw.streamListeners(),
  };
}

/** statsView is the cumulative traffic counters; the dashboard derives rates from two of them. */
export function statsView(gw: GatewayState) {
  return gw.observer.traffic.snapshot(Date.now());
}
