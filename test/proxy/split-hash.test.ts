/**
 * The cohort hash is part of the contract: changing it would move every
 * cohort of every running split at the next deploy. These values pin it; the
 * distribution check keeps it fit for percentages.
 */
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, cohortHash } from '../../src/proxy/split-plan.js';

describe('cohort hash', () => {
  // Values computed by a separate implementation of the documented algorithm (Python), not by this code.
  it('is FNV-1a + fmix32 of salt \\0 key, fixed forever (pinned values)', () => {
    expect([cohortHash('orders', 'user-1'), cohortHash('orders', 'user-2'), cohortHash('', ''), cohortHash('web', 'é漢字')]).toEqual([3095626157, 2711570099, 91794203, 3436574671]);
    expect([bucketOf('orders', 'user-1'), bucketOf('orders', 'user-2'), bucketOf('web', 'abc')]).toEqual([72, 63, 7]);
  });

  it('salts by route: the same key falls in unrelated buckets on two routes', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const same = keys.filter((k) => bucketOf('a', k) < 10 && bucketOf('b', k) < 10).length;
    // Independent: about 10 % of 10 % (20 of 2000), nowhere near the 200 a shared cohort would give.
    expect(same).toBeGreaterThan(5);
    expect(same).toBeLessThan(45);
  });

  it('spreads keys evenly over the 100 buckets', () => {
    const hist = new Array<number>(BUCKETS).fill(0);
    for (let i = 0; i < 100_000; i++) hist[bucketOf('route', `user-${i}`)]!++;
    // 1,000 expected per bucket; a binomial sd of about 31: 4 sd either way.
    expect(Math.min(...hist)).toBeGreaterThan(875);
    expect(Math.max(...hist)).toBeLessThan(1125);
  });
});
