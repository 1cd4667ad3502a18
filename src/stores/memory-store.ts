/**
 * The embedded store: a Map with per-key expiry, for a single gateway
 * instance (state is not shared and is lost on restart). Expired keys are
 * dropped lazily when read and by an unref'd sweep timer, so an idle gateway
 * does not hold dead sessions forever and the timer never keeps the process
 * alive. The map is bounded: past `maxKeys` (default 100 000) the key written
 * longest ago is evicted, so a flood of distinct clients cannot exhaust memory
 * (the cost: under such a flood the oldest sessions and counters go first).
 */
import type { Store } from './store.js';

/** MemoryStoreOptions tune the embedded store; every field has a default. */
export interface MemoryStoreOptions {
  /** maxKeys bounds the number of keys; the oldest-written key is evicted beyond it (default 100 000). */
  maxKeys?: number;
  /** sweepIntervalMs is how often expired keys are swept (default 30s; 0 disables the timer). */
  sweepIntervalMs?: number;
  /** now is the clock in epoch milliseconds (default Date.now; injectable in tests). */
  now?: () => number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/** DEFAULT_MAX_KEYS is the embedded store's default bound on keys. */
export const DEFAULT_MAX_KEYS = 100_000;

/** MemoryStore is the embedded Store implementation. */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly map = new Map<string, Entry>();
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.now = options.now ?? Date.now;
    const every = options.sweepIntervalMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  /** size is the number of keys held, expired ones not yet swept included. */
  get size(): number {
    return this.map.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    // Re-inserting moves the key to the end of the Map's order: eviction takes the least recently written.
    this.map.delete(key);
    this.write(key, { value, expiresAt: this.now() + ttlMs });
  }

  async del(key: string): Promise<void> {
    this.map.delete(key);
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const e = this.live(key);
    if (!e) return false;
    e.expiresAt = this.now() + ttlMs;
    return true;
  }

  async incr(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }> {
    const now = this.now();
    const e = this.live(key);
    if (!e) {
      this.write(key, { value: '1', expiresAt: now + ttlMs });
      return { count: 1, ttlMs };
    }
    const count = Number.parseInt(e.value, 10);
    if (!Number.isSafeInteger(count)) throw new TypeError(`value at ${key} is not an integer`);
    e.value = String(count + 1);
    return { count: count + 1, ttlMs: e.expiresAt - now };
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.map.clear();
  }

  /** sweep drops every expired key now (the timer calls it; tests may too). */
  sweep(): void {
    const now = this.now();
    for (const [k, e] of this.map) if (e.expiresAt <= now) this.map.delete(k);
  }

  /** live returns the entry when present and not expired, dropping it when expired. */
  private live(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  private write(key: string, e: Entry): void {
    this.map.set(key, e);
    if (this.map.size > this.maxKeys) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }
}
