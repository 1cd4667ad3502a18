/**
 * The embedded InstanceStore: one gateway's registry in its own memory. A
 * restart loses it, and clients recover the Eureka way: their next heartbeat
 * gets 404 and they register again. Every method completes synchronously
 * behind its promise, so each is atomic; listeners hear changes on the next
 * microtask, never inside the write.
 */
import { randomUUID } from 'node:crypto';
import type { Instance } from './instance.js';
import { decodeRecord, encodeRecord, withLease, type ChangeListener, type InstanceKey, type InstanceStore, type PutOptions, type PutOutcome, type StoreSnapshot, type StoredRecord } from './instance-store.js';

interface Entry {
  json: string;
  lastRenewedAt: number;
}

/** MemoryInstanceStore keeps registrations in maps: app → instance id → entry. */
export class MemoryInstanceStore implements InstanceStore {
  readonly kind = 'memory' as const;
  private readonly apps = new Map<string, Map<string, Entry>>();
  /** buckets counts renewals per time bucket; old buckets are pruned as new ones start. */
  private readonly buckets = new Map<number, number>();
  private readonly listeners = new Set<ChangeListener>();
  private counter = 0;
  private readonly epochId = randomUUID();

  async get(key: InstanceKey): Promise<StoredRecord | undefined> {
    const e = this.apps.get(key.app)?.get(key.instanceId);
    const record = e && decodeRecord(e.json);
    return record && { record, token: e.json };
  }

  async put(record: Parameters<InstanceStore['put']>[0], opts: PutOptions): Promise<PutOutcome> {
    const app = this.apps.get(record.app);
    const current = app?.get(record.instanceId);
    if ((current?.json ?? undefined) !== opts.expect) return 'conflict';
    if (!current) {
      if (!app && this.apps.size >= opts.maxApps) return 'too-many-apps';
      if (app && app.size >= opts.maxPerApp) return 'app-full';
    }
    const instances = app ?? new Map<string, Entry>();
    this.apps.set(record.app, instances);
    instances.set(record.instanceId, { json: encodeRecord(record), lastRenewedAt: opts.renewAt ?? current?.lastRenewedAt ?? record.registeredAt });
    this.changed(record.app);
    return 'ok';
  }

  async remove(key: InstanceKey): Promise<boolean> {
    const app = this.apps.get(key.app);
    if (!app?.delete(key.instanceId)) return false;
    if (app.size === 0) this.apps.delete(key.app);
    this.changed(key.app);
    return true;
  }

  async renew(key: InstanceKey, now: number, bucket: number): Promise<boolean> {
    const e = this.apps.get(key.app)?.get(key.instanceId);
    if (!e) return false;
    e.lastRenewedAt = now;
    if (!this.buckets.has(bucket)) this.prune(bucket);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    return true;
  }

  async renewals(buckets: readonly number[]): Promise<number> {
    return buckets.reduce((sum, b) => sum + (this.buckets.get(b) ?? 0), 0);
  }

  async expired(cutoff: number): Promise<InstanceKey[]> {
    const out: InstanceKey[] = [];
    for (const [app, instances] of this.apps) for (const [instanceId, e] of instances) if (e.lastRenewedAt < cutoff) out.push({ app, instanceId });
    return out;
  }

  async evict(candidates: readonly InstanceKey[], cutoff: number): Promise<InstanceKey[]> {
    const removed: InstanceKey[] = [];
    for (const k of candidates) {
      const e = this.apps.get(k.app)?.get(k.instanceId);
      if (e && e.lastRenewedAt < cutoff && (await this.remove(k))) removed.push(k);
    }
    return removed;
  }

  async tryLock(): Promise<boolean> {
    return true; // one gateway: nobody to race with
  }

  async load(): Promise<StoreSnapshot> {
    const instances: Instance[] = [];
    for (const app of this.apps.keys()) instances.push(...(await this.loadApp(app)));
    return { version: await this.version(), instances };
  }

  async loadApp(app: string): Promise<Instance[]> {
    const out: Instance[] = [];
    for (const e of this.apps.get(app)?.values() ?? []) {
      const r = decodeRecord(e.json);
      if (r) out.push(withLease(r, e.lastRenewedAt));
    }
    return out;
  }

  async version(): Promise<string> {
    return `${this.epochId}:${this.counter}`;
  }

  async epoch(): Promise<string> {
    return this.epochId;
  }

  async restore(instances: readonly Instance[]): Promise<void> {
    for (const { lastRenewedAt, ...record } of instances) {
      const app = this.apps.get(record.app) ?? new Map<string, Entry>();
      this.apps.set(record.app, app);
      if (app.has(record.instanceId)) continue;
      app.set(record.instanceId, { json: encodeRecord(record), lastRenewedAt });
      this.changed(record.app);
    }
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private changed(app: string): void {
    this.counter++;
    for (const l of this.listeners) queueMicrotask(() => l(app));
  }

  /** prune drops buckets far behind `current` (more than 1,000 buckets old: well past any window). */
  private prune(current: number): void {
    for (const b of this.buckets.keys()) if (b < current - 1000) this.buckets.delete(b);
  }
}
