/**
 * Where the registry keeps its state, behind one small interface with one file
 * per implementation: memory-instance-store.ts (one gateway) and
 * redis-instance-store.ts (every gateway instance shares one registry). Both
 * run the same conformance suite (test/registry/instance-store.test.ts).
 *
 * The interface is deliberately low-level: records go in and out as JSON
 * strings with compare-and-set writes, and the registry does the merging
 * (overrides kept across re-registration, metadata merged) once, in
 * registry.ts, for both stores. Every write is atomic in the store: limits are
 * checked and the record, its lease, the app set and the version change
 * together, so two gateways cannot both admit the 1,000th instance, and an
 * eviction removes an instance once even when two evictors race.
 */
import type { Instance, InstanceRecord } from './instance.js';

/** InstanceKey names one instance. */
export interface InstanceKey {
  readonly app: string;
  readonly instanceId: string;
}

/** StoredRecord is a record with the token a compare-and-set write must present (its stored JSON). */
export interface StoredRecord {
  readonly record: InstanceRecord;
  readonly token: string;
}

/** PutOptions guard a write: `expect` is the token read before (undefined = the instance must not exist), `renewAt` also renews the lease. */
export interface PutOptions {
  readonly expect: string | undefined;
  readonly renewAt?: number;
  /** maxPerApp and maxApps are checked only when the write adds an instance. */
  readonly maxPerApp: number;
  readonly maxApps: number;
}

/** PutOutcome says how a write went: `conflict` means the record changed since it was read (read again and retry). */
export type PutOutcome = 'ok' | 'conflict' | 'app-full' | 'too-many-apps';

/** StoreSnapshot is every instance with the store's version token (see InstanceStore.version). */
export interface StoreSnapshot {
  readonly version: string;
  readonly instances: readonly Instance[];
}

/** ChangeListener hears that an application changed (from any gateway, for the shared store). */
export type ChangeListener = (app: string) => void;

/** InstanceStore keeps registrations and leases; every method rejects with StoreUnavailableError when the store cannot be reached. */
export interface InstanceStore {
  /** kind names the implementation, for logs and state(). */
  readonly kind: 'memory' | 'redis';
  /** get reads one record and its write token. */
  get(key: InstanceKey): Promise<StoredRecord | undefined>;
  /** put writes a record if its token still matches, checking the limits when it adds one; announces the change. */
  put(record: InstanceRecord, opts: PutOptions): Promise<PutOutcome>;
  /** remove deletes an instance and its lease; false when it was not there. */
  remove(key: InstanceKey): Promise<boolean>;
  /** renew stamps the lease and counts one renewal in `bucket` (kept `keepMs`); false when the instance is unknown (the client re-registers). */
  renew(key: InstanceKey, now: number, bucket: number, keepMs?: number): Promise<boolean>;
  /** renewals sums the renewals counted in the given buckets (every gateway's, for the shared store). */
  renewals(buckets: readonly number[]): Promise<number>;
  /** expired lists instances whose last renewal is before `cutoff`. */
  expired(cutoff: number): Promise<InstanceKey[]>;
  /** evict removes those of `candidates` still expired at `cutoff` (a heartbeat may have arrived since) and returns them. */
  evict(candidates: readonly InstanceKey[], cutoff: number): Promise<InstanceKey[]>;
  /** tryLock takes a lock for `ttlMs` if no one holds it: one gateway runs the evictor per round. */
  tryLock(name: string, ttlMs: number): Promise<boolean>;
  /** load reads every instance and the version. */
  load(): Promise<StoreSnapshot>;
  /** loadApp reads one application's instances. */
  loadApp(app: string): Promise<Instance[]>;
  /** version reads a token that changes with every change: the store's epoch and its change counter. */
  version(): Promise<string>;
  /**
   * epoch names the store's lifetime: a random id set once (SET NX) and kept
   * until the data is lost (a Redis restarted without persistence, FLUSHALL).
   * A gateway that sees the epoch change knows the store forgot what it held.
   */
  epoch(): Promise<string>;
  /** restore writes back instances the store does not hold (leases included, no limits, never overwriting): used after the store lost its data. */
  restore(instances: readonly Instance[]): Promise<void>;
  /** subscribe hears every change by application; returns an unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
  /** healthy tells whether the store is reachable now. */
  healthy(): boolean;
  /** close releases connections and timers (idempotent). */
  close(): Promise<void>;
}

/** encodeRecord is the one JSON form both stores keep (and compare for compare-and-set). */
export function encodeRecord(r: InstanceRecord): string {
  return JSON.stringify(r);
}

/** decodeRecord reads a stored record; undefined for a value that is not one (never trusted blindly: a shared store can be written by others). */
export function decodeRecord(json: string): InstanceRecord | undefined {
  try {
    const r = JSON.parse(json) as InstanceRecord;
    return typeof r === 'object' && r !== null && typeof r.app === 'string' && typeof r.instanceId === 'string' && typeof r.ipAddr === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** withLease joins a record and its last renewal (a missing lease counts from registration). */
export function withLease(r: InstanceRecord, lastRenewedAt: number | undefined): Instance {
  return { ...r, lastRenewedAt: lastRenewedAt ?? r.registeredAt };
}
