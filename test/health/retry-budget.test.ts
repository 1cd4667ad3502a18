/**
 * RetryBudget with a hand-driven clock.
 */
import { describe, expect, it } from 'vitest';
import { RetryBudget, WINDOW_SECONDS } from '../../src/health/retry-budget.js';

function makeBudget(percent: number, minPerSecond: number) {
  const clock = { t: 1_700_000_000_000, now() { return this.t; } };
  return { budget: new RetryBudget({ percent, minPerSecond, clock }), clock };
}

/** drain acquires until refused and returns how many were granted. */
function drain(budget: RetryBudget, limit = 100_000): number {
  let n = 0;
  while (n < limit && budget.tryAcquire()) n++;
  return n;
}

function requests(budget: RetryBudget, n: number): void {
  for (let i = 0; i < n; i++) budget.request();
}

describe('RetryBudget', () => {
  it.each([0, 1, 3, 10])('minPerSecond=%i retries are always available, every second, with no traffic', (minPerSecond) => {
    const { budget, clock } = makeBudget(20, minPerSecond);
    for (let s = 0; s < 3; s++) {
      expect(drain(budget)).toBe(minPerSecond);
      clock.t += 1000;
    }
  });

  it.each([
    { percent: 0, requests: 1000, granted: 3 },
    { percent: 10, requests: 1000, granted: 100 },
    { percent: 20, requests: 1000, granted: 200 },
    { percent: 20, requests: 10, granted: 3 }, // the floor wins when volume is low
    { percent: 100, requests: 1000, granted: 1000 },
  ])('under load, $percent% of $requests requests allows $granted retries in a second', ({ percent, requests: n, granted }) => {
    const { budget } = makeBudget(percent, 3);
    requests(budget, n);
    expect(drain(budget)).toBe(granted);
  });

  it('the percentage is over the sliding window, not just the current second', () => {
    const { budget, clock } = makeBudget(20, 3);
    requests(budget, 500);
    clock.t += 1000;
    requests(budget, 500);
    expect(drain(budget)).toBe(200);
  });

  it('recovers as time passes: old requests and retries age out of the window', () => {
    const { budget, clock } = makeBudget(20, 3);
    requests(budget, 100);
    expect(drain(budget)).toBe(20);
    clock.t += 1000;
    expect(drain(budget)).toBe(3); // a new second: only the floor (20 of 20 used)
    requests(budget, 100); // 200 requests in the window → 40; 23 used
    expect(drain(budget)).toBe(17);
    clock.t += (WINDOW_SECONDS - 1) * 1000; // the first second has left the window
    requests(budget, 100); // 200 in the window (seconds 1 and 10) → 40; 20 used
    expect(drain(budget)).toBe(20);
    clock.t += 60 * 60 * 1000; // an idle hour: a clean slate
    expect(drain(budget)).toBe(3);
  });

  it('release() gives back an acquired retry that was not used', () => {
    const { budget } = makeBudget(20, 3);
    expect(drain(budget)).toBe(3);
    budget.release();
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(false);
  });

  it('release() without an acquire in this second is a no-op', () => {
    const { budget } = makeBudget(20, 3);
    budget.release();
    expect(drain(budget)).toBe(3);
  });

  it('a clock that steps back keeps counting in the current bucket', () => {
    const { budget, clock } = makeBudget(20, 3);
    expect(drain(budget)).toBe(3);
    clock.t -= 5000;
    expect(budget.tryAcquire()).toBe(false);
  });

  it.each([
    { percent: -1, minPerSecond: 3 },
    { percent: 101, minPerSecond: 3 },
    { percent: 20, minPerSecond: -1 },
  ])('rejects percent=$percent minPerSecond=$minPerSecond', ({ percent, minPerSecond }) => {
    expect(() => new RetryBudget({ percent, minPerSecond })).toThrow(RangeError);
  });
});
