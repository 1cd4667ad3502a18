/**
 * IP hash beyond the conformance suite: stickiness, even spread, minimal
 * remapping when a target leaves, weights, and retries on the ring.
 */
import { describe, expect, it } from 'vitest';
import { hash32, IpHash, MAX_RING } from '../../src/balancing/ip-hash.js';
import { tally, target, type TestTarget } from './helpers.js';

const FIVE = [1, 2, 3, 4, 5].map((i) => target(`http://10.0.0.${i}:8080`));
const KEYS = Array.from({ length: 10_000 }, (_, i) => `192.168.${i >> 8}.${i & 255}`);

function ring(set: readonly TestTarget[]): IpHash<TestTarget> {
  const b = new IpHash<TestTarget>();
  b.setTargets(set);
  return b;
}

function mapAll(b: IpHash<TestTarget>, keys = KEYS): string[] {
  return keys.map((k) => b.pick(k)!.id);
}

describe('IpHash', () => {
  it('sends the same key to the same target, across picks and instances', () => {
    const first = mapAll(ring(FIVE));
    expect(mapAll(ring(FIVE))).toEqual(first);
    expect(mapAll(ring([...FIVE].reverse()))).toEqual(first); // target order does not matter
    const b = ring(FIVE);
    for (let i = 0; i < 100; i++) expect(b.pick('203.0.113.7')).toBe(b.pick('203.0.113.7'));
  });

  it('spreads 10k keys roughly evenly over 5 targets (each within ±20% of 2000)', () => {
    const counts = tally(mapAll(ring(FIVE)));
    expect(counts.size).toBe(5);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(1600);
      expect(n).toBeLessThan(2400);
    }
  });

  it.each(FIVE.map((t, i) => ({ removed: t.id, i })))(
    'removing $removed moves at most 1/5 + 5% of keys, and only its own',
    ({ i }) => {
      const before = mapAll(ring(FIVE));
      const after = mapAll(ring(FIVE.filter((_, j) => j !== i)));
      let moved = 0;
      before.forEach((id, k) => {
        if (id === after[k]) return;
        moved++;
        expect(id).toBe(FIVE[i]!.id);
      });
      expect(moved).toBe(before.filter((id) => id === FIVE[i]!.id).length);
      expect(moved / KEYS.length).toBeLessThanOrEqual(1 / 5 + 0.05);
    },
  );

  it('gives the old mapping back when a removed target returns', () => {
    const b = ring(FIVE);
    const before = mapAll(b);
    b.setTargets(FIVE.slice(1));
    b.setTargets(FIVE);
    expect(mapAll(b)).toEqual(before);
  });

  it('moves only keys to a newly added target', () => {
    const four = FIVE.slice(0, 4);
    const before = mapAll(ring(four));
    const after = mapAll(ring(FIVE));
    after.forEach((id, k) => {
      if (id !== before[k]) expect(id).toBe(FIVE[4]!.id);
    });
  });

  it('shares keys by weight (3:1 within ±5%)', () => {
    const counts = tally(mapAll(ring([target('a', 3), target('b', 1)])));
    expect(Math.abs(counts.get('a')! / KEYS.length - 0.75)).toBeLessThan(0.05);
  });

  it('sends a retry where the key would go if the failed target were gone', () => {
    const full = ring(FIVE);
    for (const failed of FIVE) {
      const without = ring(FIVE.filter((t) => t !== failed));
      for (const key of KEYS.slice(0, 2000)) expect(full.pick(key, failed)!.id).toBe(without.pick(key)!.id);
    }
  });

  it(`bounds the ring at ${MAX_RING} points with large weights, and still reaches every target`, () => {
    const set = Array.from({ length: 20 }, (_, i) => target(`t${i}`, 1000 - i));
    const counts = tally(mapAll(ring(set)));
    expect(counts.size).toBe(20);
    const b = ring(set) as unknown as { points: Uint32Array };
    expect(b.points.length).toBeLessThanOrEqual(MAX_RING);
  });

  it('hash32 is a stable 32-bit hash', () => {
    expect(hash32('192.168.0.1')).toBe(hash32('192.168.0.1'));
    expect(hash32('192.168.0.1')).not.toBe(hash32('192.168.0.2'));
    for (const k of KEYS.slice(0, 100)) {
      const h = hash32(k);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
  });
});
