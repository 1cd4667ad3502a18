/**
 * slowStartFactor: a linear ramp from SLOW_START_FLOOR to 1.
 */
import { describe, expect, it } from 'vitest';
import { SLOW_START_FLOOR, slowStartFactor, slowStartWindowFromDoc } from '../../src/health/slow-start.js';

describe('slowStartFactor', () => {
  it.each([
    { since: 0, now: 0, window: 0, factor: 1, why: 'window 0 means off' },
    { since: 0, now: 5_000, window: 0, factor: 1, why: 'window 0 means off' },
    { since: 1_000, now: 1_000, window: 10_000, factor: SLOW_START_FLOOR, why: 'just joined: the floor' },
    { since: 1_000, now: 500, window: 10_000, factor: SLOW_START_FLOOR, why: 'clock skew before join: the floor' },
    { since: 0, now: 2_500, window: 10_000, factor: 0.325, why: 'a quarter in' },
    { since: 0, now: 5_000, window: 10_000, factor: 0.55, why: 'half way' },
    { since: 0, now: 9_999, window: 10_000, factor: 0.99991, why: 'almost there' },
    { since: 0, now: 10_000, window: 10_000, factor: 1, why: 'elapsed' },
    { since: 0, now: 1e12, window: 10_000, factor: 1, why: 'long ago' },
  ])('since=$since now=$now window=$window → $factor ($why)', ({ since, now, window, factor }) => {
    expect(slowStartFactor(since, now, window)).toBeCloseTo(factor, 6);
  });

  it('never decreases over the window', () => {
    let last = 0;
    for (let t = 0; t <= 10_000; t += 100) {
      const f = slowStartFactor(0, t, 10_000);
      expect(f).toBeGreaterThanOrEqual(last);
      last = f;
    }
  });

  it.each([
    { doc: undefined, ms: 0 },
    { doc: 0, ms: 0 },
    { doc: '30s', ms: 30_000 },
    { doc: 1500, ms: 1500 },
  ])('slowStartWindowFromDoc($doc) → $ms', ({ doc, ms }) => {
    expect(slowStartWindowFromDoc(doc)).toBe(ms);
  });
});
