/**
 * Smooth weighted round robin beyond the conformance suite: nginx's exact
 * sequence, checked against a direct model of nginx's loop, including state
 * carried across set changes and schedules longer than MAX_SCHEDULE.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SCHEDULE, WeightedRoundRobin } from '../../src/balancing/weighted-round-robin.js';
import { ids, seeded, tally, target, targets, type TestTarget } from './helpers.js';

function wrr(set: TestTarget[]): WeightedRoundRobin<TestTarget> {
  const b = new WeightedRoundRobin<TestTarget>();
  b.setTargets(set);
  return b;
}

/** NginxModel is nginx's smooth WRR written plainly (O(n) per pick): the reference. */
class NginxModel {
  private current = new Map<string, number>();
  private set: TestTarget[] = [];
  setTargets(set: TestTarget[]): void {
    this.set = set;
    this.current = new Map(set.map((t) => [t.id, this.current.get(t.id) ?? 0]));
  }
  pick(): string {
    const total = this.set.reduce((s, t) => s + t.weight, 0);
    let best: TestTarget | undefined;
    for (const t of this.set) {
      this.current.set(t.id, this.current.get(t.id)! + t.weight);
      if (best === undefined || this.current.get(t.id)! > this.current.get(best.id)!) best = t;
    }
    this.current.set(best!.id, this.current.get(best!.id)! - total);
    return best!.id;
  }
}

describe('WeightedRoundRobin', () => {
  it('gives a,a,b,a,c,a,a for weights 5,1,1, cycle after cycle', () => {
    const cycle = ['a', 'a', 'b', 'a', 'c', 'a', 'a'];
    expect(ids(wrr(targets('abc', [5, 1, 1])), 21)).toEqual([...cycle, ...cycle, ...cycle]);
  });

  it.each([
    { weights: [1, 1, 1], want: ['a', 'b', 'c', 'a', 'b', 'c'] },
    { weights: [2, 1, 1], want: ['a', 'b', 'c', 'a', 'a', 'b', 'c', 'a'] },
    { weights: [3, 1], want: ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a'] },
    { weights: [10, 2, 2], want: ['a', 'a', 'b', 'a', 'c', 'a', 'a'] }, // same as 5,1,1
  ])('gives the nginx sequence for weights $weights', ({ weights, want }) => {
    expect(ids(wrr(targets('abc'.slice(0, weights.length), weights)), want.length)).toEqual(want);
  });

  it.each([
    { weights: [5, 1, 1] },
    { weights: [1000, 1] },
    { weights: [7, 3, 2, 1] },
    { weights: [4, 6, 8] },
  ])('picks each target exactly its weight share over one cycle ($weights)', ({ weights }) => {
    const set = targets('abcd'.slice(0, weights.length), weights);
    const total = weights.reduce((a, b) => a + b, 0);
    const counts = tally(ids(wrr(set), total * 3));
    set.forEach((t) => expect(counts.get(t.id)).toBe(t.weight * 3));
  });

  it('matches the nginx model for random weights', () => {
    const rng = seeded(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rng() * 7);
      const set = Array.from({ length: n }, (_, i) => target(`t${i}`, 1 + Math.floor(rng() * 20)));
      const model = new NginxModel();
      model.setTargets(set);
      const b = wrr(set);
      for (let i = 0; i < 500; i++) expect(b.pick('k')!.id).toBe(model.pick());
    }
  });

  it('carries each remaining target’s current weight across set changes, like nginx', () => {
    const rng = seeded(11);
    const pool = Array.from({ length: 8 }, (_, i) => target(`t${i}`, 1 + Math.floor(rng() * 9)));
    const model = new NginxModel();
    const b = new WeightedRoundRobin<TestTarget>();
    for (let change = 0; change < 40; change++) {
      let set = pool.filter(() => rng() < 0.6);
      if (set.length === 0) set = [pool[0]!];
      model.setTargets(set);
      b.setTargets(set);
      const picks = Math.floor(rng() * 60);
      for (let i = 0; i < picks; i++) expect(b.pick('k')!.id).toBe(model.pick());
    }
  });

  it('continues the cycle when the same set is handed over again', () => {
    const b = wrr(targets('abc', [5, 1, 1]));
    expect(ids(b, 2)).toEqual(['a', 'a']);
    b.setTargets(targets('abc', [5, 1, 1])); // fresh objects, same ids
    expect(ids(b, 5)).toEqual(['b', 'a', 'c', 'a', 'a']);
  });

  it('follows weights changed on a set change', () => {
    const b = wrr(targets('ab', [1, 1]));
    ids(b, 2);
    b.setTargets(targets('ab', [3, 1]));
    const counts = tally(ids(b, 400));
    expect(counts.get('a')).toBe(300);
    expect(counts.get('b')).toBe(100);
  });

  it(`matches the nginx model when one cycle exceeds MAX_SCHEDULE (${MAX_SCHEDULE})`, () => {
    const primes = [997, 991, 983, 977, 971, 967, 953, 947, 941, 937];
    expect(primes.reduce((a, b) => a + b, 0)).toBeGreaterThan(MAX_SCHEDULE);
    const set = primes.map((w, i) => target(`p${i}`, w));
    const model = new NginxModel();
    model.setTargets(set);
    const b = wrr(set);
    for (let i = 0; i < 3 * MAX_SCHEDULE; i++) expect(b.pick('k')!.id).toBe(model.pick());
  });

  it('gives a retry the next different target and keeps the sequence for everyone else', () => {
    const set = targets('abc', [5, 1, 1]);
    const b = wrr(set);
    expect(b.pick('k')!.id).toBe('a');
    // The next slot is a's: the retry gets the next different target in the schedule (b).
    expect(b.pick('k', set[0])!.id).toBe('b');
    expect(ids(b, 5)).toEqual(['b', 'a', 'c', 'a', 'a']);
  });

  it('spreads retries away from a heavy failed target over the others', () => {
    const set = targets('abc', [5, 1, 1]);
    const b = wrr(set);
    const counts = tally(Array.from({ length: 70 }, () => b.pick('k', set[0])!.id));
    expect(counts.get('a')).toBeUndefined();
    expect(counts.get('b')).toBeGreaterThan(0);
    expect(counts.get('c')).toBeGreaterThan(0);
  });
});
