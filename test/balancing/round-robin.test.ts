/**
 * Round robin beyond the conformance suite: the exact rotation, retries, and
 * where the rotation continues when the eligible set changes.
 */
import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../../src/balancing/round-robin.js';
import { ids, target, targets, type TestTarget } from './helpers.js';

function rr(set: TestTarget[]): RoundRobin<TestTarget> {
  const b = new RoundRobin<TestTarget>();
  b.setTargets(set);
  return b;
}

describe('RoundRobin', () => {
  it('rotates strictly 1, 2, 3, 1, 2, 3', () => {
    expect(ids(rr(targets('123')), 7)).toEqual(['1', '2', '3', '1', '2', '3', '1']);
  });

  it('ignores weights and keys', () => {
    const b = rr(targets('abc', [10, 1, 5]));
    expect(ids(b, 6, () => 'same-client')).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('skips the excluded target and continues after the one returned', () => {
    const [a, b, c] = targets('abc');
    const bal = rr([a!, b!, c!]);
    expect(bal.pick('k')!.id).toBe('a');
    expect(bal.pick('k', b)!.id).toBe('c'); // b was next: skipped
    expect(ids(bal, 3)).toEqual(['a', 'b', 'c']);
  });

  it('does not skip when the next target is not the excluded one', () => {
    const set = targets('abc');
    const bal = rr(set);
    expect(bal.pick('k', set[2])!.id).toBe('a');
    expect(bal.pick('k')!.id).toBe('b');
  });

  it.each([
    { what: 'the same set again', picks: 1, next: 'abc', want: ['b', 'c', 'a'] },
    { what: 'a target added after the last picked', picks: 1, next: 'axbc', want: ['x', 'b', 'c', 'a'] },
    { what: 'a target added at the end', picks: 3, next: 'abcd', want: ['d', 'a', 'b'] },
    { what: 'the set reordered', picks: 1, next: 'cab', want: ['b', 'c', 'a'] },
    { what: 'an unpicked target removed', picks: 1, next: 'ac', want: ['c', 'a'] },
    { what: 'the last picked removed: its old successor follows', picks: 2, next: 'acd', want: ['c', 'd', 'a'] },
    { what: 'the last picked and its successor removed', picks: 2, next: 'ad', want: ['a', 'd'] },
    { what: 'the last picked removed, wrapping around', picks: 3, next: 'ab', want: ['a', 'b'] },
    { what: 'every old target removed', picks: 2, next: 'xyz', want: ['x', 'y', 'z'] },
  ])('continues after the last picked target on $what', ({ picks, next, want }) => {
    const b = rr(targets('abc'));
    ids(b, picks);
    b.setTargets(targets(next));
    expect(ids(b, want.length)).toEqual(want);
  });

  it('starts at the first target when the set changes before any pick', () => {
    const b = rr(targets('abc'));
    b.setTargets(targets('cab'));
    expect(ids(b, 3)).toEqual(['c', 'a', 'b']);
  });

  it('resumes after an empty interval', () => {
    const b = rr(targets('abc'));
    ids(b, 1);
    b.setTargets([]);
    expect(b.pick('k')).toBeUndefined();
    b.setTargets(targets('abc'));
    expect(ids(b, 3)).toEqual(['b', 'c', 'a']);
  });

  it('keeps one position per balancer', () => {
    const set = [target('a'), target('b')];
    const one = rr(set);
    const two = rr(set);
    expect(one.pick('k')!.id).toBe('a');
    expect(two.pick('k')!.id).toBe('a');
  });
});
