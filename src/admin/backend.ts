/**
 * What the admin API reads and drives, as one small asynchronous interface:
 * a single gateway answers it directly; a cluster primary answers it by
 * asking its workers over IPC and merging their answers (src/cluster/).
 */
import type { Gateway } from '../gateway/gateway.js';
import type { ReloadSummary } from '../gateway/reload-summary.js';
import type { RestartNotice } from '../gateway/restart-required.js';
import { configView, routesView, statsView, upstreamsView } from './views.js';

/** AdminReload is the outcome of POST /reload (what changed, and the changes waiting for a restart). */
export type AdminReload = { ok: true; version: number; changes?: ReloadSummary; restartRequired?: RestartNotice[]; pluginsReloaded?: string[] } | { ok: false; errors: string[] };

/** DrainResult is the outcome of draining or undraining one target. */
export interface DrainResult {
  upstream: string;
  target: string;
  index: number;
  draining: boolean;
  inflight: number;
}

/** AdminBackend is the state and the operations behind the admin endpoints. */
export interface AdminBackend {
  readiness(): Promise<Record<string, boolean>>;
  routes(): Promise<unknown>;
  upstreams(): Promise<unknown>;
  config(): Promise<unknown>;
  stats(): Promise<unknown>;
  reload(): Promise<AdminReload>;
  /** drain resolves undefined when there is no such target. */
  drain(upstream: string, index: number, draining: boolean): Promise<DrainResult | undefined>;
  /** metrics renders the Prometheus exposition. */
  metrics(): Promise<string>;
}

/** gatewayBackend serves the admin API from one in-process gateway. */
export function gatewayBackend(gw: Gateway): AdminBackend {
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
    async drain(name, index, draining) {
      const upstream = gw.runtime.upstreams.get(name);
      const target = upstream?.targetAt(index);
      if (!upstream || !target) return undefined;
      upstream.setDraining(target, draining);
      return { upstream: name, target: target.id, index: target.index, draining, inflight: target.inflight };
    },
    metrics: () => gw.metricsText(),
  };
}
