/**
 * What the admin views and the admin backend read of a running gateway. The
 * Gateway class implements it; the adapters depend on this, not on the class,
 * so neither imports the other.
 */
import type { ConfigError } from '../config/errors.js';
import type { ReloadSummary, RestartNotice } from '../admin/backend.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Traffic } from '../telemetry/traffic.js';
import type { SplitCounts } from './split-view.js';
import type { RegistryState } from '../registry/index.js';

/**
 * ReloadResult tells what a reload did: what changed, and which changes wait
 * for a restart (the whole current list, not only this reload's).
 */
export type ReloadResult = { ok: true; version: number; changes: ReloadSummary; restartRequired: RestartNotice[]; pluginsReloaded?: string[] } | { ok: false; errors: ConfigError[] };

/** LastChange is the diff summary (src/diff) of the last applied reload. */
export interface LastChange {
  version: number;
  at: Date;
  summary: { changed: boolean; text: string; flags: string[]; moves: string[]; files: string[] };
}

/** RejectedReload remembers the last invalid configuration attempt (admin /config). */
export interface RejectedReload {
  at: Date;
  errors: string[];
  /** supersededBy is the version a later successful reload installed (the rejection no longer describes the files). */
  supersededBy?: number;
}

/** GatewayState is the part of a gateway the admin API shows and drives. */
export interface GatewayState {
  readonly runtime: Runtime;
  readonly lastRejected: RejectedReload | undefined;
  readonly restartRequired: readonly RestartNotice[];
  /** lastChange is the diff summary of the last applied reload. */
  readonly lastChange: LastChange | undefined;
  readonly startedAt: Date;
  readonly observer: { readonly traffic: Pick<Traffic, 'snapshot'>; readonly splitTraffic?: SplitCounts };
  certificates(): Array<{ cert: string; names: readonly string[]; notAfter: string }>;
  /** streamListeners describes the running stream listeners (name, protocol, address, open connections, totals since start, routes). */
  streamListeners(): Array<{ name: string; protocol: string; host: string; port: number; open: number; total: number; refused: number; bytesIn: number; bytesOut: number; routes: string[] }>;
  storeStatus(): { kind: string; healthy: boolean };
  /** registryState describes the gateway's own service registry; undefined when it runs none (or before listen). */
  registryState(): RegistryState | undefined;
  readiness(): Record<string, boolean>;
  reload(): Promise<ReloadResult>;
  /** configModel is the active configuration's diff model (GET /config/model, `switchyard diff --against http://...`). */
  configModel(): Promise<unknown>;
  /** dryRunReload diffs the files on disk against the active configuration without applying them (POST /reload?dryRun=1). */
  dryRunReload(): Promise<{ ok: true; dryRun: true; applied: false; version: number; diff: unknown } | { ok: false; dryRun: true; errors: ConfigError[] }>;
  metricsText(): Promise<string>;
}
