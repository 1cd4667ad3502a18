/**
 * The registry: Eureka's operations (register, renew, cancel, status override,
 * metadata) over an InstanceStore, and the RegistrySource the gateway's
 * discovery side reads. Writes go to the store (atomic there, with limits)
 * and then into this gateway's cache; reads come from the cache only, so they
 * answer while a shared store is down. The evictor (evictor.ts) expires
 * leases; with a shared store, StoreSync (store-sync.ts) follows the other
 * gateways' writes.
 *
 * Every write answers a WriteResult rather than throwing: the REST listener
 * turns a refusal into its catalog error, a store failure into 503.
 */
import type { Logger } from 'pino';
import type { RegistryInstance, RegistrySource } from '../discovery/provider.js';
import type { ErrorCode } from '../errors.js';
import { StoreUnavailableError } from '../stores/store-error.js';
import { Evictor } from './evictor.js';
import { APP_PATTERN, EUREKA_STATUSES, INSTANCE_ID_PATTERN, effectiveStatus, type EurekaStatus, type Instance, type InstanceRecord } from './instance.js';
import type { InstanceKey, InstanceStore } from './instance-store.js';
import { NO_METRICS, type RegistryMetrics, type RegistryRefusalReason } from './metrics.js';
import type { CompiledRegistryOptions } from './options.js';
import { checkMetadata, parseRegistration } from './registration.js';
import { RegistryCache, type DeltaEntry } from './registry-cache.js';
import { bucketOf } from './self-preservation.js';
import { StoreSync } from './store-sync.js';
import type { SelfPreservationState } from './self-preservation.js';

/** WriteResult is how a registry write went; a failure carries the catalog code the client gets. */
export type WriteResult = { ok: true } | { ok: false; code: ErrorCode; reason: RegistryRefusalReason | 'unavailable'; detail?: string };

/** RegistryState is the registry as the admin API, the dashboard and metrics show it. */
export interface RegistryState {
  readonly store: 'memory' | 'redis';
  /** storeHealthy is false while a shared store cannot be read or written (reads then serve the last known state). */
  readonly storeHealthy: boolean;
  /** apps maps each application to its instance count by (effective) status. */
  readonly apps: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly instances: number;
  readonly selfPreservation: SelfPreservationState;
  /** evictions counts instances this gateway evicted since start. */
  readonly evictions: number;
  readonly lastEvictionAt: number;
  /** version counts changes this gateway has seen (GET /apps/delta's versions__delta). */
  readonly version: number;
}

/** RegistryDeps builds a Registry. */
export interface RegistryDeps {
  readonly options: CompiledRegistryOptions;
  readonly store: InstanceStore;
  readonly log: Logger;
  /** metrics default to none. */
  readonly metrics?: RegistryMetrics;
  /** clock defaults to Date.now (tests may pass their own). */
  readonly clock?: () => number;
}

/** CAS_ATTEMPTS bounds read-merge-write retries when writers race on one instance. */
const CAS_ATTEMPTS = 5;
const STATUS_SET = new Set<string>(EUREKA_STATUSES);

const unavailable = (detail?: string): WriteResult => ({ ok: false, code: 'SY_ERR_REGISTRY_UNAVAILABLE', reason: 'unavailable', ...(detail ? { detail } : {}) });
const notFound = (key: InstanceKey): WriteResult => ({ ok: false, code: 'SY_ERR_REGISTRY_NOT_FOUND', reason: 'not-found', detail: `${key.app}/${key.instanceId}` });
const badRequest = (detail: string): WriteResult => ({ ok: false, code: 'SY_ERR_REGISTRY_BAD_REQUEST', reason: 'malformed', detail });

/** Registry is the gateway's own Eureka-compatible service registry. */
export class Registry implements RegistrySource {
  readonly options: CompiledRegistryOptions;
  private readonly store: InstanceStore;
  private readonly log: Logger;
  private readonly metrics: RegistryMetrics;
  private readonly clock: () => number;
  private readonly cache: RegistryCache;
  private readonly evictor: Evictor;
  private readonly sync: StoreSync;

  constructor(deps: RegistryDeps) {
    this.options = deps.options;
    this.store = deps.store;
    this.log = deps.log;
    this.metrics = deps.metrics ?? NO_METRICS;
    this.clock = deps.clock ?? Date.now;
    this.cache = new RegistryCache(this.options.deltaRetentionMs, this.clock);
    this.evictor = new Evictor({ options: this.options, store: this.store, cache: this.cache, metrics: this.metrics, log: this.log, clock: this.clock });
    this.sync = new StoreSync(this.store, this.cache, this.log, this.metrics, this.options.syncEveryMs);
  }

  /** start loads what the store holds, then follows it and starts the evictor. */
  async start(): Promise<void> {
    await this.sync.start();
    this.evictor.start();
  }

  /** stop ends the timers and the subscription (the store is closed by whoever made it). */
  async stop(): Promise<void> {
    await this.evictor.stop();
    await this.sync.stop();
  }

  // ---- RegistrySource: what the gateway's discovery side reads ----

  /** instances lists an application's instances (case-insensitive name) from the cache. */
  instances(app: string): readonly RegistryInstance[] {
    return this.cache.view(app.toUpperCase());
  }

  /** onChange calls back with the application's name after any change to it; returns an unsubscribe function. */
  onChange(listener: (app: string) => void): () => void {
    return this.cache.onChange(listener);
  }

  /** apps lists the applications with at least one instance. */
  apps(): readonly string[] {
    return this.cache.appNames();
  }

  // ---- Eureka writes ----

  /** register adds or replaces an instance from a registration body (an operator's status override survives re-registration). */
  async register(app: string, body: unknown): Promise<WriteResult> {
    const now = this.clock();
    const parsed = parseRegistration(app, body, this.options, now);
    if (!parsed.ok) {
      this.metrics.refused(parsed.reason);
      const code: ErrorCode = parsed.reason === 'target' ? 'SY_ERR_REGISTRY_TARGET_REFUSED' : parsed.reason === 'metadata' ? 'SY_ERR_REGISTRY_METADATA_TOO_LARGE' : 'SY_ERR_REGISTRY_BAD_REQUEST';
      return { ok: false, code, reason: parsed.reason, detail: parsed.detail };
    }
    const fresh = parsed.record;
    const result = await this.write(fresh, (cur) =>
      cur ? { ...fresh, overriddenStatus: cur.overriddenStatus, registeredAt: cur.registeredAt, serviceUpAt: cur.serviceUpAt || fresh.serviceUpAt } : fresh,
      true,
    );
    if (result.ok) this.metrics.registered(fresh.app);
    return result;
  }

  /** renew records a heartbeat; not-found tells the client to register again (also when it holds newer data: a later lastDirtyTimestamp). */
  async renew(app: string, instanceId: string, lastDirtyTimestamp?: number): Promise<WriteResult> {
    const key = this.key(app, instanceId);
    if (!key) return badRequest('application or instance id has characters outside the safe set');
    const known = this.cache.get(key.app, key.instanceId);
    if (known && lastDirtyTimestamp !== undefined && lastDirtyTimestamp > known.lastDirtyTimestamp) return notFound(key);
    const now = this.clock();
    const window = this.options.selfPreservation?.windowMs ?? this.options.expiryMs;
    try {
      if (!(await this.store.renew(key, now, bucketOf(now, window), 2 * window + 60_000))) return notFound(key);
    } catch (err) {
      return this.storeFailed(err);
    }
    this.cache.touch(key.app, key.instanceId, now);
    this.metrics.renewed();
    return { ok: true };
  }

  /** cancel removes an instance at once (a client's graceful stop). */
  async cancel(app: string, instanceId: string): Promise<WriteResult> {
    const key = this.key(app, instanceId);
    if (!key) return badRequest('application or instance id has characters outside the safe set');
    try {
      if (!(await this.store.remove(key))) return notFound(key);
    } catch (err) {
      return this.storeFailed(err);
    }
    this.cache.remove(key.app, key.instanceId);
    this.metrics.cancelled(key.app);
    return { ok: true };
  }

  /** statusOverride sets an operator's status (e.g. OUT_OF_SERVICE to drain), which wins over the instance's own. */
  statusOverride(app: string, instanceId: string, value: string): Promise<WriteResult> {
    if (!STATUS_SET.has(value)) return Promise.resolve(badRequest(`value must be one of ${EUREKA_STATUSES.join(', ')}`));
    return this.update(app, instanceId, (r, now) => ({ ...r, overriddenStatus: value as EurekaStatus, lastDirtyTimestamp: now, lastUpdatedTimestamp: now }));
  }

  /** removeOverride drops the operator's status; `value`, when given, becomes the instance's status (Eureka's DELETE .../status?value=UP). */
  removeOverride(app: string, instanceId: string, value?: string): Promise<WriteResult> {
    if (value !== undefined && !STATUS_SET.has(value)) return Promise.resolve(badRequest(`value must be one of ${EUREKA_STATUSES.join(', ')}`));
    return this.update(app, instanceId, (r, now) => ({ ...r, overriddenStatus: 'UNKNOWN', status: (value as EurekaStatus | undefined) ?? r.status, lastDirtyTimestamp: now, lastUpdatedTimestamp: now }));
  }

  /** metadata merges entries into an instance's metadata, within the metadata limits. */
  async metadata(app: string, instanceId: string, entries: Readonly<Record<string, string>>): Promise<WriteResult> {
    const keys = Object.keys(entries);
    if (keys.length === 0) return badRequest('give at least one key=value in the query');
    if (keys.some((k) => k.length === 0 || k.length > 256)) return badRequest('metadata keys are 1..256 characters');
    let problem: string | undefined;
    const result = await this.update(app, instanceId, (r, now) => {
      const metadata = { ...r.metadata, ...entries };
      problem = checkMetadata(metadata, this.options);
      return problem ? undefined : { ...r, metadata, lastUpdatedTimestamp: now };
    });
    if (problem) {
      this.metrics.refused('metadata');
      return { ok: false, code: 'SY_ERR_REGISTRY_METADATA_TOO_LARGE', reason: 'metadata', detail: problem };
    }
    return result;
  }

  // ---- Eureka reads (from the cache) ----

  /** list returns every instance, or one application's (empty when unknown). */
  list(app?: string): Instance[] {
    return app === undefined ? this.cache.all() : this.cache.instancesOf(app.toUpperCase());
  }

  /** get returns one instance. */
  get(app: string, instanceId: string): Instance | undefined {
    return this.cache.get(app.toUpperCase(), instanceId);
  }

  /** delta returns the retained recent changes and the change version. */
  delta(): { version: number; entries: readonly DeltaEntry[] } {
    return { version: this.cache.version, entries: this.cache.delta() };
  }

  /** state describes the registry now (instances by app and status, self-preservation, evictions, store health). */
  state(): RegistryState {
    const apps: Record<string, Record<string, number>> = {};
    for (const i of this.cache.all()) {
      const byStatus = (apps[i.app] ??= {});
      const s = effectiveStatus(i);
      byStatus[s] = (byStatus[s] ?? 0) + 1;
    }
    return {
      store: this.store.kind,
      storeHealthy: this.sync.healthy && this.store.healthy(),
      apps,
      instances: this.cache.size(),
      selfPreservation: this.evictor.selfPreservation(),
      evictions: this.evictor.evictions,
      lastEvictionAt: this.evictor.lastEvictionAt,
      version: this.cache.version,
    };
  }

  /** evictNow runs an eviction round at once (tests, admin) and returns how many were evicted. */
  evictNow(): Promise<number> {
    return this.evictor.round();
  }

  /** syncNow re-reads a shared store at once if it changed (tests). */
  syncNow(): Promise<void> {
    return this.sync.poll();
  }

  // ---- internals ----

  private key(app: string, instanceId: string): InstanceKey | undefined {
    return APP_PATTERN.test(app) && INSTANCE_ID_PATTERN.test(instanceId) ? { app: app.toUpperCase(), instanceId } : undefined;
  }

  /** update applies `change` to an existing instance (undefined from it = no write). */
  private async update(app: string, instanceId: string, change: (r: InstanceRecord, now: number) => InstanceRecord | undefined): Promise<WriteResult> {
    const key = this.key(app, instanceId);
    if (!key) return badRequest('application or instance id has characters outside the safe set');
    let missing = false;
    const result = await this.write(key, (cur) => {
      if (!cur) {
        missing = true;
        return undefined;
      }
      return change(cur, this.clock());
    }, false);
    return missing ? notFound(key) : result;
  }

  /** write is the read-merge-compare-and-set loop every write shares. */
  private async write(key: InstanceKey, merge: (cur: InstanceRecord | undefined) => InstanceRecord | undefined, renews: boolean): Promise<WriteResult> {
    const { maxInstancesPerApp: maxPerApp, maxApps } = this.options;
    try {
      for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        const cur = await this.store.get(key);
        const next = merge(cur?.record);
        if (!next) return { ok: true };
        // A registration renews the lease; an update (status, metadata) leaves it as it is.
        const renewAt = renews ? this.clock() : undefined;
        const outcome = await this.store.put(next, { expect: cur?.token, maxPerApp, maxApps, ...(renewAt === undefined ? {} : { renewAt }) });
        if (outcome === 'ok') {
          const lease = renewAt ?? this.cache.get(next.app, next.instanceId)?.lastRenewedAt ?? next.registeredAt;
          this.cache.upsert({ ...next, lastRenewedAt: lease });
          return { ok: true };
        }
        if (outcome === 'app-full' || outcome === 'too-many-apps') {
          this.metrics.refused(outcome);
          const detail = outcome === 'app-full' ? `${next.app} has ${maxPerApp} instances (maxInstancesPerApp)` : `the registry holds ${maxApps} applications (limits.maxApps)`;
          return { ok: false, code: 'SY_ERR_REGISTRY_FULL', reason: outcome, detail };
        }
      }
      return unavailable('too many concurrent writes to this instance; try again');
    } catch (err) {
      return this.storeFailed(err);
    }
  }

  private storeFailed(err: unknown): WriteResult {
    if (!(err instanceof StoreUnavailableError)) throw err;
    this.metrics.storeError();
    this.log.debug({ err: { message: err.message } }, 'registry write failed: store unavailable');
    return unavailable();
  }
}
