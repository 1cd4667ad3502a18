/**
 * The Store conformance suite: the same specification run against every
 * implementation (embedded and Redis), so plugins can rely on one behaviour.
 * Expiry is awaited by polling with a deadline, never by sleeping.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { createRedis } from '../../src/stores/redis-client.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import type { Store } from '../../src/stores/store.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../../src/testing/index.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  if (!redis.external) await redis.stop();
});

/** DRIVERS builds each implementation fresh; the Redis one waits until the client is ready. */
const DRIVERS: { name: string; make: () => Promise<Store> }[] = [
  { name: 'memory', make: async () => new MemoryStore({ sweepIntervalMs: 20 }) },
  {
    name: 'redis',
    make: async () => {
      const store = new RedisStore(createRedis(redis.url, pino({ level: 'silent' })), { ownsClient: true });
      await waitFor(() => store.healthy(), { message: 'redis client ready' });
      return store;
    },
  },
];

describe.each(DRIVERS)('Store conformance: $name', ({ make }) => {
  let store: Store;
  /** key makes a key no other test (or a shared REDIS_URL server) uses. */
  const key = (what: string) => `sy:test:${randomUUID()}:${what}`;
  beforeAll(async () => {
    store = await make();
  });
  afterAll(() => store.close());

  it('is healthy once connected', () => {
    expect(store.healthy()).toBe(true);
  });

  it('returns undefined for a missing key', async () => {
    expect(await store.get(key('missing'))).toBeUndefined();
  });

  it.each([
    ['plain text', 'hello'],
    ['JSON', JSON.stringify({ sub: 'u1', roles: ['a', 'b'], n: 1 })],
    ['unicode', 'héllo ✓ 日本'],
    ['empty string', ''],
  ])('stores and returns %s unchanged', async (_what, value) => {
    const k = key('v');
    await store.set(k, value, 60_000);
    expect(await store.get(k)).toBe(value);
  });

  it('overwrites a value and its TTL on set', async () => {
    const k = key('over');
    await store.set(k, 'one', 60_000);
    await store.set(k, 'two', 60_000);
    expect(await store.get(k)).toBe('two');
  });

  it('deletes a key (and deleting a missing key is fine)', async () => {
    const k = key('del');
    await store.set(k, 'x', 60_000);
    await store.del(k);
    expect(await store.get(k)).toBeUndefined();
    await expect(store.del(k)).resolves.toBeUndefined();
  });

  it('expires a key after its TTL', async () => {
    const k = key('ttl');
    await store.set(k, 'x', 40);
    await waitFor(async () => (await store.get(k)) === undefined, { message: 'the key to expire' });
  });

  it('expire() resets the TTL of a live key and reports a missing one', async () => {
    const k = key('slide');
    expect(await store.expire(k, 1000)).toBe(false);
    await store.incr(k, 50);
    expect(await store.expire(k, 60_000)).toBe(true);
    const { ttlMs } = await store.incr(k, 50);
    expect(ttlMs).toBeGreaterThan(50_000);
  });

  it('incr starts at 1 with the given TTL, counts up, and keeps the first TTL', async () => {
    const k = key('count');
    const first = await store.incr(k, 10_000);
    expect(first.count).toBe(1);
    expect(first.ttlMs).toBeGreaterThan(9_000);
    expect(first.ttlMs).toBeLessThanOrEqual(10_000);
    const second = await store.incr(k, 99_000_000);
    expect(second.count).toBe(2);
    expect(second.ttlMs).toBeLessThanOrEqual(10_000);
  });

  it('incr restarts from 1 once the counter expired', async () => {
    const k = key('restart');
    await store.incr(k, 40);
    await store.incr(k, 40);
    await waitFor(async () => (await store.get(k)) === undefined, { message: 'the counter to expire' });
    expect((await store.incr(k, 40)).count).toBe(1);
  });

  it('incr is atomic under concurrency: 50 parallel increments give 1..50', async () => {
    const k = key('race');
    const results = await Promise.all(Array.from({ length: 50 }, () => store.incr(k, 60_000)));
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('get reads a counter as its decimal string', async () => {
    const k = key('read');
    await store.incr(k, 60_000);
    await store.incr(k, 60_000);
    expect(await store.get(k)).toBe('2');
  });
});
