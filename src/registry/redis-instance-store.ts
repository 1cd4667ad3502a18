/**
 * The shared InstanceStore on Redis: every gateway instance serves the same
 * registry. A heartbeat to any gateway renews the lease; writes and evictions
 * are atomic scripts (redis-scripts.ts); changes are announced on a pub/sub
 * channel that a second connection listens to. Records are JSON strings in one
 * hash per application, leases in a parallel hash (a heartbeat rewrites only a
 * timestamp). Keys, with P the key prefix (default "{sy-registry}:"):
 *
 *   P apps          SET   application names with at least one instance
 *   P i:<APP>       HASH  instance id → record JSON
 *   P l:<APP>       HASH  instance id → last renewal (epoch ms)
 *   P version       STR   change counter
 *   P epoch         STR   the data's lifetime id (a new one after Redis lost its data)
 *   P r:<bucket>    STR   renewals counted in a time bucket (expires)
 *   P lock:<name>   STR   short locks (SET NX PX)
 *   P changes       channel: the changed application's name
 *
 * Lease times are the writing gateway's clock; keep gateway clocks in sync
 * (NTP), as leases are seconds long. Failures reject with StoreUnavailableError
 * at once (the client's front-door settings: no offline queue).
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../stores/redis-client.js';
import { StoreUnavailableError } from '../stores/store-error.js';
import type { Instance } from './instance.js';
import { decodeRecord, encodeRecord, withLease, type ChangeListener, type InstanceKey, type InstanceStore, type PutOptions, type PutOutcome, type StoreSnapshot, type StoredRecord } from './instance-store.js';
import { EVICT, PUT, REMOVE, RENEW, runScript } from './redis-scripts.js';

/** RedisInstanceStoreOptions tune the shared store. */
export interface RedisInstanceStoreOptions {
  /** keyPrefix starts every key and the channel (default "{sy-registry}:"). */
  readonly keyPrefix?: string;
  /** ownsClient makes close() quit the client (default false). */
  readonly ownsClient?: boolean;
}

/** RedisInstanceStore is the InstanceStore on an ioredis client (single node, Sentinel or Cluster). */
export class RedisInstanceStore implements InstanceStore {
  readonly kind = 'redis' as const;
  private readonly p: string;
  private readonly channel: string;
  private readonly listeners = new Set<ChangeListener>();
  private subscriber: RedisClient | undefined;
  private closed = false;

  constructor(
    /** client is the command connection; create it with createRedis for the fail-fast settings. */
    readonly client: RedisClient,
    private readonly options: RedisInstanceStoreOptions = {},
  ) {
    this.p = options.keyPrefix ?? '{sy-registry}:';
    this.channel = `${this.p}changes`;
  }

  async get(key: InstanceKey): Promise<StoredRecord | undefined> {
    const json = await this.run('get', () => this.client.hget(this.inst(key.app), key.instanceId));
    const record = json ? decodeRecord(json) : undefined;
    return record && json ? { record, token: json } : undefined;
  }

  async put(record: Parameters<InstanceStore['put']>[0], opts: PutOptions): Promise<PutOutcome> {
    const lease = opts.renewAt ?? (opts.expect === undefined ? record.registeredAt : '');
    const args = [record.app, record.instanceId, opts.expect ?? '', encodeRecord(record), lease, opts.maxPerApp, opts.maxApps, this.channel];
    return (await this.run('put', () => runScript(this.client, PUT, this.appKeys(record.app), args))) as PutOutcome;
  }

  async remove(key: InstanceKey): Promise<boolean> {
    const n = await this.run('remove', () => runScript(this.client, REMOVE, this.appKeys(key.app), [key.app, key.instanceId, this.channel]));
    return n === 1;
  }

  async renew(key: InstanceKey, now: number, bucket: number, keepMs = 3_600_000): Promise<boolean> {
    const keys = [this.inst(key.app), this.lease(key.app), `${this.p}r:${bucket}`];
    const n = await this.run('renew', () => runScript(this.client, RENEW, keys, [key.instanceId, now, Math.ceil(keepMs)]));
    return n === 1;
  }

  async renewals(buckets: readonly number[]): Promise<number> {
    if (buckets.length === 0) return 0;
    const counts = await this.run('renewals', () => this.client.mget(...buckets.map((b) => `${this.p}r:${b}`)));
    return counts.reduce((sum, c) => sum + (Number(c) || 0), 0);
  }

  async expired(cutoff: number): Promise<InstanceKey[]> {
    const apps = await this.run('expired', () => this.client.smembers(`${this.p}apps`));
    const leases = await this.run('expired', () => Promise.all(apps.map((a) => this.client.hgetall(this.lease(a)))));
    const out: InstanceKey[] = [];
    apps.forEach((app, i) => {
      for (const [instanceId, t] of Object.entries(leases[i] ?? {})) if (Number(t) < cutoff) out.push({ app, instanceId });
    });
    return out;
  }

  async evict(candidates: readonly InstanceKey[], cutoff: number): Promise<InstanceKey[]> {
    const byApp = new Map<string, string[]>();
    for (const k of candidates) byApp.set(k.app, [...(byApp.get(k.app) ?? []), k.instanceId]);
    const removed: InstanceKey[] = [];
    for (const [app, ids] of byApp) {
      const gone = (await this.run('evict', () => runScript(this.client, EVICT, this.appKeys(app), [app, cutoff, this.channel, ...ids]))) as string[];
      for (const instanceId of gone) removed.push({ app, instanceId });
    }
    return removed;
  }

  async tryLock(name: string, ttlMs: number): Promise<boolean> {
    const ok = await this.run('lock', () => this.client.set(`${this.p}lock:${name}`, randomUUID(), 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return ok === 'OK';
  }

  async load(): Promise<StoreSnapshot> {
    const [version, apps] = await Promise.all([this.version(), this.run('load', () => this.client.smembers(`${this.p}apps`))]);
    const perApp = await Promise.all(apps.map((a) => this.loadApp(a)));
    return { version, instances: perApp.flat() };
  }

  async loadApp(app: string): Promise<Instance[]> {
    const [records, leases] = await this.run('load', () => Promise.all([this.client.hgetall(this.inst(app)), this.client.hgetall(this.lease(app))]));
    const out: Instance[] = [];
    for (const [id, json] of Object.entries(records)) {
      const r = decodeRecord(json);
      if (r && r.app === app && r.instanceId === id) out.push(withLease(r, leases[id] === undefined ? undefined : Number(leases[id])));
    }
    return out;
  }

  async version(): Promise<string> {
    const [epoch, counter] = await this.run('version', () => this.client.mget(`${this.p}epoch`, `${this.p}version`));
    return `${epoch ?? '-'}:${counter ?? 0}`;
  }

  async epoch(): Promise<string> {
    const key = `${this.p}epoch`;
    return this.run('epoch', async () => {
      await this.client.set(key, randomUUID(), 'NX');
      return (await this.client.get(key)) ?? '-';
    });
  }

  async restore(instances: readonly Instance[]): Promise<void> {
    if (instances.length === 0) return;
    const m = this.client.multi();
    for (const { lastRenewedAt, ...record } of instances) {
      // HSETNX: an instance that registered again meanwhile keeps its fresh record and lease.
      m.hsetnx(this.inst(record.app), record.instanceId, encodeRecord(record));
      m.hsetnx(this.lease(record.app), record.instanceId, String(lastRenewedAt));
      m.sadd(`${this.p}apps`, record.app);
    }
    m.incr(`${this.p}version`);
    for (const app of new Set(instances.map((i) => i.app))) m.publish(this.channel, app);
    await this.run('restore', () => m.exec());
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (!this.subscriber && !this.closed) this.listen();
    return () => this.listeners.delete(listener);
  }

  healthy(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.subscriber?.disconnect();
    if (this.options.ownsClient) this.client.disconnect();
  }

  /** listen opens the pub/sub connection; ioredis re-subscribes by itself after a reconnect, and the version poll covers what was missed meanwhile. */
  private listen(): void {
    const sub: RedisClient = this.client instanceof Cluster ? this.client.duplicate() : this.client.duplicate();
    this.subscriber = sub;
    sub.on('error', () => {}); // the command connection logs the outage once; this one would repeat it
    sub.on('message', (channel: string, app: string) => {
      if (channel !== this.channel) return;
      for (const l of this.listeners) l(app);
    });
    // SUBSCRIBE on every 'ready' (the first connect, and after a reconnect should
    // ioredis's own re-subscription have raced it): subscribing twice is harmless.
    sub.on('ready', () => void sub.subscribe(this.channel).catch(() => {}));
  }

  private inst(app: string): string {
    return `${this.p}i:${app}`;
  }

  private lease(app: string): string {
    return `${this.p}l:${app}`;
  }

  private appKeys(app: string): string[] {
    return [`${this.p}apps`, this.inst(app), this.lease(app), `${this.p}version`];
  }

  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new StoreUnavailableError(`registry ${operation}`, err);
    }
  }
}
