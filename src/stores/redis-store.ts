/**
 * The shared store on Redis: sessions and rate-limit counters seen by every
 * gateway instance. It relies on the client's front-door settings (see
 * redis-client.ts): with no offline queue, a command issued while Redis is
 * away fails at once instead of waiting in memory, and every failure comes
 * out as a StoreUnavailableError so plugins apply their `onStoreError`.
 *
 * Keys are always `sy:<area>:<id>`, built by the gateway from fixed prefixes
 * and validated ids; nothing here ever runs KEYS or SCAN.
 */
import { createHash } from 'node:crypto';
import type { Store } from './store.js';
import { StoreUnavailableError } from './store-error.js';
import type { RedisClient } from './redis-client.js';

/**
 * INCR_SCRIPT counts atomically: INCR, then give the key its TTL only when it
 * has none (what PEXPIRE NX does on Redis 7, written so Redis 6.2 runs it
 * too), then report the time left. One round trip, no race between
 * instances, and a counter can never be left without an expiry.
 */
const INCR_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;
const INCR_SHA = createHash('sha1').update(INCR_SCRIPT).digest('hex');

/** RedisStoreOptions tune the Redis store. */
export interface RedisStoreOptions {
  /** ownsClient makes close() quit the client (default false: whoever created the client quits it). */
  ownsClient?: boolean;
}

/** RedisStore is the Store implementation on an ioredis client (single node, Sentinel or Cluster). */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;

  constructor(
    /** client is the ioredis connection; create it with createRedis for the fail-fast settings. */
    readonly client: RedisClient,
    private readonly options: RedisStoreOptions = {},
  ) {}

  async get(key: string): Promise<string | undefined> {
    const v = await this.run('get', () => this.client.get(key));
    return v ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.run('set', () => this.client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs))));
  }

  async del(key: string): Promise<void> {
    await this.run('del', () => this.client.del(key));
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const n = await this.run('expire', () => this.client.pexpire(key, Math.max(1, Math.ceil(ttlMs))));
    return n === 1;
  }

  async incr(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    const reply = await this.run('incr', async () => {
      try {
        return await this.client.evalsha(INCR_SHA, 1, key, ttl);
      } catch (err) {
        // First use on this server (or after a restart): load the script by sending it whole.
        if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return this.client.eval(INCR_SCRIPT, 1, key, ttl);
        throw err;
      }
    });
    const [count, left] = reply as [number, number];
    return { count: Number(count), ttlMs: Number(left) };
  }

  /** healthy is true while the client is connected and ready. */
  healthy(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    if (!this.options.ownsClient) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /** run performs one command, turning any failure into a StoreUnavailableError. */
  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new StoreUnavailableError(operation, err);
    }
  }
}
