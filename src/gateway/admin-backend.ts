/**
 * The admin API's view of one in-process gateway: the AdminBackend interface
 * (src/admin/backend.ts) answered from a Gateway directly.
 */
import type { AdminBackend } from '../admin/backend.js';
import { poolNamed } from '../proxy/runtime.js';
import type { GatewayState } from './state.js';
import { configView, routesView, statsView, upstreamsView } from './admin-views.js';

/** gatewayBackend serves the admin API from one in-process gateway. */
export function gatewayBackend(gw: GatewayState): AdminBackend {
  return {
    readiness: async () => gw.readiness(),
    routes: async () => routesView(gw),
    upstreams: async () => upstreamsView(gw),
    config: async () => configView(gw),
    stats: async () => statsView(gw),
    async reload() {
      const result = await gw.reload();
      return result.ok ? { ok: true, version: result.version, changes: result.changes, restartRequired: result.restartRequired, ...(result.pluginsReloaded ? { pluginsReloaded: result.pluginsReloaded } : {}) } : { ok: false, errors: result.errors.map((e) => e.format()) };
    },
    async dryRun() {
      const result = await gw.dryRunReload();
      return result.ok ? result : { ok: false, dryRun: true, errors: result.errors.map((e) => e.format()) };
    },
    model: () => gw.configModel(),
    async drain(name, index, draining) {
      const upstream = poolNamed(gw.runtime, name);
      const target = upstream?.targetAt(index);
      if (!upstream || !target) return undefined;
      upstream.setDraining(target, draining);
      return { upstream: name, target: target.id, index: target.index, draining, inflight: target.inflight };
    },
    metrics: () => gw.metricsText(),
  };
}
