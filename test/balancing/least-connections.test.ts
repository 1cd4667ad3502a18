/**
 * Least connections beyond the conformance suite: live inflight counts are
 * read on every pick; ties go to weight, then rotate.
 */
import { describe, expect, it } from 'vitest';
import { LeastConnections } from '../../src/balancing/least-connections.js';
import { ids, target, targets, type TestTarget } from './helpers.js';

function lc(set: TestTarget[]): LeastConnections<TestTarget> {
  const b = new LeastConnections<TestTarget>();
  b.setTargets(set);
  return b;
}

describe('LeastConnections', () => {
  it.each([
    { inflight: [3, 1, 2], want: 'b' },
    { inflight: [0, 5, 5], want: 'a' },
    { inflight: [9, 9, 8], want: 'c' },
  ])('picks the fewest in flight: $inflight → $want', ({ inflight, want }) => {
    const set = inflight.map((n, i) => target('abc'[i]!, 1, n));
    expect(lc(set).pick('k')!.id).toBe(want);
  });

  it('prefers fewer in flight over a higher weight', () => {
    expect(lc([target('heavy', 10, 2), target('light', 1, 1)]).pick('k')!.id).toBe('light');
  });

  it('breaks ties by the higher weight', () => {
    const b = lc([target('a', 1, 2), target('b', 3, 2), target('c', 2, 2)]);
    expect(ids(b, 4)).toEqual(['b', 'b', 'b', 'b']);
  });

  it('rotates among equal targets instead of always taking the first', () => {
    expect(ids(lc(targets('abc')), 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('rotates fairly among the tied subset', () => {
    const set = targets('abc');
    set[1]!.inflight = 4;
    expect(ids(lc(set), 6)).toEqual(['a', 'c', 'a', 'c', 'a', 'c']);
  });

  it('reads inflight live on every pick', () => {
    const set = targets('abc');
    const b = lc(set);
    const run: string[] = [];
    for (let i = 0; i < 6; i++) {
      const t = b.pick('k')!;
      t.inflight++;
      run.push(t.id);
    }
    expect(run).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    set[2]!.inflight = 0; // c's requests finished
    expect(b.pick('k')!.id).toBe('c');
  });

  it('skips the excluded target even when it is the least loaded', () => {
    const set = [target('a', 1, 0), target('b', 1, 3), target('c', 1, 2)];
    const b = lc(set);
    expect(b.pick('k', set[0])!.id).toBe('c');
    expect(b.pick('k', set[2])!.id).toBe('a');
  });

  it('keeps rotating after the set changes', () => {
    const b = lc(targets('abc'));
    expect(ids(b, 2)).toEqual(['a', 'b']);
    b.setTargets(targets('abcd'));
    expect(ids(b, 4)).toEqual(['c', 'd', 'a', 'b']);
    b.setTargets(targets('a'));
    expect(ids(b, 2)).toEqual(['a', 'a']);
  });
});
