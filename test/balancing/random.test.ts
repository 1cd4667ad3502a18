/**
 * Random beyond the conformance suite: uniform and weighted distributions
 * (with a seeded generator, so they cannot flake), exact picks from an
 * injected rng, and retries drawn over the other targets only.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/balancing/random.js';
import { ids, seeded, tally, targets, type TestTarget } from './helpers.js';

function random(set: TestTarget[], rng: () => number): Random<TestTarget> {
  const b = new Random<TestTarget>({ rng });
  b.setTargets(set);
  return b;
}

/** expectShares checks each id got its expected share of `picks` within ±5% of the expectation. */
function expectShares(picked: (string | undefined)[], shares: Record<string, number>): void {
  const counts = tally(picked);
  for (const [id, share] of Object.entries(shares)) {
    const expected = share * picked.length;
    expect(Math.abs((counts.get(id) ?? 0) - expected), `${id}: ${counts.get(id)} vs ${expected}`).toBeLessThanOrEqual(expected * 0.05);
  }
}

describe('Random', () => {
  it('is uniform over equal weights (30k picks, each within ±5%)', () => {
    expectShares(ids(random(targets('abc'), seeded(1)), 30_000), { a: 1 / 3, b: 1 / 3, c: 1 / 3 });
  });

  it('is uniform with the default Math.random too', () => {
    const b = new Random<TestTarget>();
    b.setTargets(targets('abc'));
    expectShares(ids(b, 30_000), { a: 1 / 3, b: 1 / 3, c: 1 / 3 });
  });

  it.each<{ weights: number[]; shares: Record<string, number> }>([
    { weights: [1, 2, 7], shares: { a: 0.1, b: 0.2, c: 0.7 } },
    { weights: [3, 1], shares: { a: 0.75, b: 0.25 } },
    { weights: [1, 1, 2], shares: { a: 0.25, b: 0.25, c: 0.5 } },
  ])('follows weights $weights', ({ weights, shares }) => {
    const set = targets('abc'.slice(0, weights.length), weights);
    expectShares(ids(random(set, seeded(2)), 30_000), shares);
  });

  it.each([
    { weights: [1, 1, 1, 1], draws: [0, 0.249, 0.25, 0.5, 0.75, 0.999999], want: ['a', 'a', 'b', 'c', 'd', 'd'] },
    { weights: [1, 3], draws: [0, 0.24, 0.25, 0.26, 0.999999], want: ['a', 'a', 'b', 'b', 'b'] },
    { weights: [2, 1, 1], draws: [0.49, 0.5, 0.74, 0.75], want: ['a', 'b', 'b', 'c'] },
  ])('maps injected draws to targets exactly (weights $weights)', ({ weights, draws, want }) => {
    let i = 0;
    const b = random(targets('abcd'.slice(0, weights.length), weights), () => draws[i++]!);
    expect(ids(b, draws.length)).toEqual(want);
  });

  it('draws a retry over the other targets only (uniform)', () => {
    const set = targets('abc');
    let draw = 0;
    const b = random(set, () => draw);
    for (const [d, want] of [[0, 'a'], [0.5, 'c'], [0.99999, 'c']] as const) {
      draw = d;
      expect(b.pick('k', set[1])!.id).toBe(want);
    }
  });

  it('draws a retry over the other targets only (weighted), in their weight ratio', () => {
    const set = targets('abc', [1, 2, 7]);
    const b = random(set, seeded(3));
    expectShares(Array.from({ length: 30_000 }, () => b.pick('k', set[2])!.id), { a: 1 / 3, b: 2 / 3 });
    expectShares(Array.from({ length: 30_000 }, () => b.pick('k', set[0])!.id), { b: 2 / 9, c: 7 / 9 });
  });

  it.each([0, 0.1, 0.125, 0.3, 0.5, 0.999999999])('never returns the excluded target at draw %d', (d) => {
    const set = targets('abcd', [1, 1, 2, 4]);
    const b = random(set, () => d);
    for (const excluded of set) expect(b.pick('k', excluded)!.id).not.toBe(excluded.id);
  });
});
