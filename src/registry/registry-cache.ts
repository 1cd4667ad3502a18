/**
 * The registry as this gateway last saw it: every read (GET /apps, the
 * discovery provider, state()) is served from here, never from the store, so
 * reads stay fast and keep answering with the last known state while a shared
 * store is down. Applying a fresh copy of an application diffs it against the
 * old one: what clients would see differently (membership, status, metadata,
 * addresses; not lease times) becomes a delta entry (ADDED, MODIFIED, DELETED,
 * kept `deltaRetentionMs` for GET /apps/delta) and a change event.
 */
import type { RegistryInstance } from '../discovery/provider.js';
import { sameRegistration, toRegistryInstance, type Instance } from './instance.js';

/** DeltaAction is Eureka's actionType. */
export type DeltaAction = 'ADDED' | 'MODIFIED' | 'DELETED';

/** DeltaEntry is one recent change, as GET /apps/delta lists it. */
export interface DeltaEntry {
  readonly at: number;
  readonly action: DeltaAction;
  readonly instance: Instance;
}

/** RegistryCache holds the last known registry, the recent changes and the change listeners. */
export class RegistryCache {
  private readonly apps = new Map<string, Map<string, Instance>>();
  private readonly views = new Map<string, readonly RegistryInstance[]>();
  private readonly recent: DeltaEntry[] = [];
  private readonly listeners = new Set<(app: string) => void>();
  /** version counts changes seen here (Eureka's versions__delta). */
  version = 0;

  constructor(
    private readonly deltaRetentionMs: number,
    private readonly clock: () => number,
  ) {}

  /** get returns one instance. */
  get(app: string, instanceId: string): Instance | undefined {
    return this.apps.get(app)?.get(instanceId);
  }

  /** appNames lists applications with at least one instance, sorted. */
  appNames(): string[] {
    return [...this.apps.keys()].sort();
  }

  /** instancesOf lists one application's instances (empty when unknown). */
  instancesOf(app: string): Instance[] {
    return [...(this.apps.get(app)?.values() ?? [])];
  }

  /** all lists every instance. */
  all(): Instance[] {
    return [...this.apps.values()].flatMap((m) => [...m.values()]);
  }

  /** size is the number of instances. */
  size(): number {
    let n = 0;
    for (const m of this.apps.values()) n += m.size;
    return n;
  }

  /** view is the discovery side's frozen list for an application, rebuilt only after it changes. */
  view(app: string): readonly RegistryInstance[] {
    let v = this.views.get(app);
    if (!v) {
      v = Object.freeze(this.instancesOf(app).map(toRegistryInstance));
      this.views.set(app, v);
    }
    return v;
  }

  /** touch records a renewal seen here (not a change: no delta, no event). */
  touch(app: string, instanceId: string, at: number): void {
    const i = this.apps.get(app)?.get(instanceId);
    if (!i) return;
    this.apps.get(app)!.set(instanceId, { ...i, lastRenewedAt: Math.max(at, i.lastRenewedAt) });
    this.views.delete(app); // rebuilt lazily, only if someone reads the lease age
  }

  /** upsert applies one instance just written here. */
  upsert(instance: Instance): void {
    const app = this.apps.get(instance.app) ?? new Map<string, Instance>();
    const before = app.get(instance.instanceId);
    this.apps.set(instance.app, app);
    app.set(instance.instanceId, instance);
    if (!before) this.record('ADDED', instance);
    else if (!sameRegistration(before, instance)) this.record('MODIFIED', instance);
    else return;
    this.changed(instance.app);
  }

  /** remove applies one instance's removal (cancel, eviction). */
  remove(app: string, instanceId: string): void {
    const m = this.apps.get(app);
    const before = m?.get(instanceId);
    if (!m || !before) return;
    m.delete(instanceId);
    if (m.size === 0) this.apps.delete(app);
    this.record('DELETED', before);
    this.changed(app);
  }

  /** replaceApp applies a fresh copy of one application from the store. */
  replaceApp(app: string, fresh: readonly Instance[]): void {
    const old = this.apps.get(app) ?? new Map<string, Instance>();
    const next = new Map(fresh.map((i) => [i.instanceId, i]));
    let changed = false;
    for (const [id, before] of old) {
      if (!next.has(id)) {
        this.record('DELETED', before);
        changed = true;
      }
    }
    for (const [id, i] of next) {
      const before = old.get(id);
      if (!before) this.record('ADDED', i);
      else if (!sameRegistration(before, i)) this.record('MODIFIED', i);
      else continue;
      changed = true;
    }
    if (next.size === 0) this.apps.delete(app);
    else this.apps.set(app, next);
    if (changed) this.changed(app);
  }

  /** replaceAll applies a full copy of the registry from the store. */
  replaceAll(fresh: readonly Instance[]): void {
    const byApp = new Map<string, Instance[]>();
    for (const i of fresh) byApp.set(i.app, [...(byApp.get(i.app) ?? []), i]);
    for (const app of this.apps.keys()) if (!byApp.has(app)) byApp.set(app, []);
    for (const [app, list] of byApp) this.replaceApp(app, list);
  }

  /** delta lists the changes still retained, oldest first. */
  delta(): readonly DeltaEntry[] {
    this.prune();
    return this.recent;
  }

  /** onChange subscribes to application changes; returns an unsubscribe function. */
  onChange(listener: (app: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(action: DeltaAction, instance: Instance): void {
    this.version++;
    this.recent.push({ at: this.clock(), action, instance });
    this.prune();
  }

  private prune(): void {
    const cutoff = this.clock() - this.deltaRetentionMs;
    let n = 0;
    while (n < this.recent.length && this.recent[n]!.at < cutoff) n++;
    if (n > 0) this.recent.splice(0, n);
  }

  /** changed drops the app's view and tells listeners; a throwing listener never breaks the registry. */
  private changed(app: string): void {
    this.views.delete(app);
    for (const l of this.listeners) {
      try {
        l(app);
      } catch {
        // a listener's failure is its own; the registry carries on
      }
    }
  }
}
