/**
 * The embedded store beyond the conformance suite: bounded size with
 * oldest-written eviction, expiry on an injected clock, and the sweep.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_KEYS, MemoryStore } from '../../src/stores/memory-store.js';

/** fakeClock is a clock tests move by hand. */
function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe('MemoryStore', () => {
  it('defaults to a 100k-key bound', () => {
    expect(DEFAULT_MAX_KEYS).toBe(100_000);
  });

  it('evicts the key written longest ago beyond maxKeys', async () => {
    const store = new MemoryStore({ maxKeys: 3, sweepIntervalMs: 0 });
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 60_000);
    await store.set('c', '3', 60_000);
    await store.set('a', '1again', 60_000); // rewriting makes "a" the newest
    await store.set('d', '4', 60_000);
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('1again');
    expect(await store.get('c')).toBe('3');
    expect(await store.get('d')).toBe('4');
  });

  it('counts new counters against the bound too', async () => {
    const store = new MemoryStore({ maxKeys: 2, sweepIntervalMs: 0 });
    await store.incr('x', 60_000);
    await store.incr('y', 60_000);
    await store.incr('z', 60_000);
    expect(store.size).toBe(2);
    expect(await store.get('x')).toBeUndefined();
  });

  it.each([
    { name: 'just before the TTL', advance: 999, present: true },
    { name: 'at the TTL', advance: 1000, present: false },
    { name: 'long after', advance: 86_400_000, present: false },
  ])('expires on its clock: $name', async ({ advance, present }) => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now, sweepIntervalMs: 0 });
    await store.set('k', 'v', 1000);
    clock.t += advance;
    expect((await store.get('k')) !== undefined).toBe(present);
  });

  it('sweep drops expired keys that nobody reads', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now, sweepIntervalMs: 0 });
    await store.set('old', 'v', 1000);
    await store.set('young', 'v', 10_000);
    clock.t += 5000;
    store.sweep();
    expect(store.size).toBe(1);
    expect(await store.get('young')).toBe('v');
  });

  it('incr reports the time left on its clock', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now, sweepIntervalMs: 0 });
    await store.incr('c', 10_000);
    clock.t += 4000;
    expect(await store.incr('c', 10_000)).toEqual({ count: 2, ttlMs: 6000 });
  });

  it('close empties the store', async () => {
    const store = new MemoryStore();
    await store.set('k', 'v', 1000);
    await store.close();
    expect(store.size).toBe(0);
  });
});
