/**
 * The key/value store behind sessions, rate-limit counters and sticky data:
 * Redis when configured (shared by all gateway instances), else an embedded
 * in-memory store (one instance only). Keys are always built by the gateway
 * from fixed prefixes and validated ids, never from raw client input patterns.
 */

/** Store is the small interface both implementations provide. */
export interface Store {
  /** kind says where state lives. */
  readonly kind: 'memory' | 'redis';
  /** get returns the value or undefined. */
  get(key: string): Promise<string | undefined>;
  /** set stores a value that expires after ttlMs. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** del removes a key. */
  del(key: string): Promise<void>;
  /** expire resets a key's time to live (sliding expiry); false when the key is gone. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** incr adds one to a counter, giving it ttlMs on creation; returns the count and the time left. */
  incr(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }>;
  /** healthy tells whether the store answered recently (readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}
