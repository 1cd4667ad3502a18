/**
 * Self-preservation, Eureka's semantics: when 3 of 4 instances stop
 * heartbeating at once (what a partition looks like), renewals fall below
 * 85 % of the expected count and nothing is evicted, however long their
 * leases are overdue; state() shows it; once renewals return, eviction is
 * back to normal. One silent instance in eight is above the threshold: it is
 * evicted as usual. Plus the arithmetic, table-driven.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assess, evictionLimit, expectedRenewals, renewalWindow } from '../../src/registry/self-preservation.js';
import { waitFor } from '../../src/testing/index.js';
import { body, call, heartbeater, startTestRegistry, type Heartbeater, type TestRegistry } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fleet(n: number): Promise<{ reg: TestRegistry; beats: Heartbeater[] }> {
  const reg = await startTestRegistry();
  cleanups.push(() => reg.close());
  const beats: Heartbeater[] = [];
  for (let i = 0; i < n; i++) {
    expect((await call('POST', `${reg.base}/apps/FLEET`, { body: body('FLEET', `f${i}`) })).status).toBe(204);
    const hb = heartbeater(reg.base, 'FLEET', `f${i}`, 200);
    beats.push(hb);
    cleanups.push(() => hb.stop());
  }
  // A full window of renewals, every instance included, before the test starts.
  const since = Date.now();
  await waitFor(() => { const sp = reg.registry.state().selfPreservation; return sp.at > since + 1200 && !sp.active; }, { message: 'a full window of renewals' });
  return { reg, beats };
}

describe('self-preservation', () => {
  it('evicts nothing when 3 of 4 instances stop heartbeating, shows it, and returns to normal when renewals return', { timeout: 15_000 }, async () => {
    const { reg, beats } = await fleet(4);
    for (const hb of beats.slice(1)) hb.stop();
    const stoppedAt = Date.now();
    await waitFor(() => reg.registry.state().selfPreservation.active, { message: 'self-preservation to engage' });
    const sp = reg.registry.state().selfPreservation;
    expect(sp.renewals).toBeLessThan(sp.threshold * sp.expected);

    // Well past expiry (1.5 s) and many eviction rounds (every 100 ms): all four are still there.
    await waitFor(() => {
      expect(reg.registry.instances('FLEET')).toHaveLength(4);
      return Date.now() > stoppedAt + 3000;
    }, { timeout: 5000, interval: 50, message: 'twice the expiry' });
    const state = reg.registry.state();
    expect(state).toMatchObject({ evictions: 0, instances: 4, apps: { FLEET: { UP: 4 } }, selfPreservation: { active: true, enabled: true } });

    for (const hb of beats) hb.start(); // the partition heals: their leases are renewed (200, not 404: they were kept)
    await waitFor(() => !reg.registry.state().selfPreservation.active, { message: 'self-preservation to disengage' });
    expect(beats.every((hb) => !hb.statuses.has(404))).toBe(true);
    expect(reg.registry.state()).toMatchObject({ evictions: 0, instances: 4 });
  });

  it('still evicts one silent instance of eight (renewals stay above 85 %)', { timeout: 15_000 }, async () => {
    const { reg, beats } = await fleet(8);
    beats[0]!.stop();
    await waitFor(() => reg.registry.instances('FLEET').length === 7, { timeout: 4000, message: 'f0 to be evicted' });
    expect(reg.registry.state()).toMatchObject({ evictions: 1, selfPreservation: { active: false } });
    expect(reg.registry.get('FLEET', 'f0')).toBeUndefined();
  });
});

describe('self-preservation arithmetic', () => {
  it.each([
    // [renewals, expected, threshold, active]
    [0, 0, 0.85, false], // nothing expected: nothing to preserve
    [17, 20, 0.85, false],
    [16, 20, 0.85, true],
    [5, 20, 0.85, true],
    [0, 20, 0, false], // threshold 0 never engages
  ])('renewals %i of %i expected at threshold %f → active %s', (renewals, expected, threshold, active) => {
    expect(assess(renewals, expected, 60_000, threshold, true, 1).active).toBe(active);
    expect(assess(renewals, expected, 60_000, threshold, false, 1).active).toBe(false); // disabled
  });

  it('expects span/renewal renewals from an old instance, and only whole intervals from a new one', () => {
    const w = renewalWindow(600_000, 60_000); // 10 s buckets: six full ones and the current (empty: now is on a boundary)
    expect(w.buckets).toHaveLength(7);
    expect(w.spanMs).toBe(60_000);
    expect(expectedRenewals([{ registeredAt: 0 }], 600_000, 60_000, 30_000)).toBe(2);
    expect(expectedRenewals([{ registeredAt: 600_000 - 45_000 }], 600_000, 60_000, 30_000)).toBe(1);
    expect(expectedRenewals([{ registeredAt: 600_000 - 10_000 }], 600_000, 60_000, 30_000)).toBe(0);
  });

  it.each([
    [1, 0.85, 1],
    [4, 0.85, 1],
    [100, 0.85, 15],
    [100, undefined, Infinity],
  ])('caps one round at %i instances, threshold %s, to %s evictions (Eureka)', (size, threshold, limit) => {
    expect(evictionLimit(size, threshold)).toBe(limit);
  });
});
