/**
 * What the admin API reads and drives, as one small asynchronous interface:
 * a single gateway answers it directly; a cluster primary answers it by
 * asking its workers over IPC and merging their answers (src/cluster/).
 * The admin server sees only this interface, never the gateway itself.
 */

/** Changes lists names added, removed and changed. */
export interface Changes {
  added: string[];
  removed: string[];
  changed: string[];
}

/** ReloadSummary is what one reload changed. */
export interface ReloadSummary {
  /** files are the source files added, removed or changed, relative to the gateway's directory. */
  files: Changes;
  routes: Changes;
  upstreams: Changes;
}

/** RestartNotice is one change that takes effect only after a restart. */
export interface RestartNotice {
  /** key is the gateway.yaml key (dotted), or another name of what changed (e.g. `plugins.stamp` code). */
  key: string;
  /** running and configured are the value in use and the value now configured (secrets hidden). */
  running?: unknown;
  configured?: unknown;
  /** reason says more when key/running/configured do not (optional). */
  reason?: string;
}

/** AdminReload is the outcome of POST /reload (what changed, and the changes waiting for a restart). */
export type AdminReload = { ok: true; version: number; changes?: ReloadSummary; restartRequired?: RestartNotice[]; pluginsReloaded?: string[] } | { ok: false; errors: string[] };

/**
 * AdminDryRun is the outcome of POST /reload?dryRun=1: the diff (src/diff's
 * DiffReport) from the active configuration to the files on disk, applied to
 * nothing; or why the files are invalid.
 */
export type AdminDryRun = { ok: true; dryRun: true; applied: false; version: number; diff: unknown } | { ok: false; dryRun: true; errors: string[] };

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
  /** dryRun diffs the files on disk against the active configuration without applying them. */
  dryRun(): Promise<AdminDryRun>;
  /** model is the active configuration's diff model, secrets fingerprinted (`switchyard diff --against http://...`). */
  model(): Promise<unknown>;
  /** drain resolves undefined when there is no such target. */
  drain(upstream: string, index: number, draining: boolean): Promise<DrainResult | undefined>;
  /** metrics renders the Prometheus exposition. */
  metrics(): Promise<string>;
}
