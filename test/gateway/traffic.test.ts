/**
 * The dashboard's traffic window (issue 13, item 19): 10-second slots over 5
 * minutes that clear as time passes, latency percentiles interpolated within
 * a bucket, and windows that add up across cluster workers.
 */
import { describe, expect, it } from 'vitest';
import { LATENCY_BOUNDS_MS, SLOTS, STEP_MS, Traffic } from '../../src/telemetry/traffic.js';
import { addWindows, quantile } from '../../src/telemetry/traffic-window.js';
import { mergeStats } from '../../src/cluster/merge.js';

describe('traffic window', () => {
  it('19: counts per slot, oldest first, and forgets slots older than the window', () => {
    let now = 1_000 * STEP_MS;
    const t = new Traffic(() => now);
    t.record('r', 'u', 200, 3);
    t.record('r', 'u', 503, 3);
    now += STEP_MS;
    t.record('r', 'u', 200, 3);
    let w = t.snapshot(now).window.routes.r!;
    expect(w.requests).toHaveLength(SLOTS);
    expect(w.requests.slice(-2)).toEqual([2, 1]);
    expect(w.errors5xx.slice(-2)).toEqual([1, 0]);
    // Nothing for most of the window: the old slots slide out, the cumulative counts stay.
    now += (SLOTS - 1) * STEP_MS;
    w = t.snapshot(now).window.routes.r!;
    expect(w.requests.reduce((a, b) => a + b, 0)).toBe(1);
    now += STEP_MS;
    const s = t.snapshot(now);
    expect(s.window.routes.r!.requests.every((n) => n === 0)).toBe(true);
    expect(s.window.routes.r!.p50Ms).toBeNull();
    expect(s.routes.r).toEqual({ requests: 3, errors5xx: 1, errors4xx: 0, status401: 0, status429: 0 });
  });

  it('19: p50 and p99 come from the latency buckets of the window', () => {
    const t = new Traffic(() => 5 * STEP_MS);
    for (let i = 0; i < 98; i++) t.record('r', 'u', 200, 4);
    t.record('r', 'u', 200, 300);
    t.record('r', 'u', 200, 300);
    const w = t.snapshot(5 * STEP_MS).window.routes.r!;
    expect(w.p50Ms).toBeGreaterThan(2);
    expect(w.p50Ms).toBeLessThanOrEqual(5);
    expect(w.p99Ms).toBeGreaterThan(200);
    expect(w.p99Ms).toBeLessThanOrEqual(500);
    expect(quantile([0, 0, 1], [1, 2], 0.5)).toBe(2); // slower than the last bound: reported as that bound
    expect(quantile([0, 0, 0], [1, 2], 0.5)).toBeNull();
  });

  it('19: cluster workers\' windows add up slot by slot, percentiles recomputed', () => {
    const at = 7 * STEP_MS;
    const a = new Traffic(() => at);
    const b = new Traffic(() => at);
    a.record('r', 'u', 200, 1);
    b.record('r', 'u', 500, 1000);
    const merged = mergeStats([
      { worker: 1, pid: 1, view: a.snapshot(at) as never },
      { worker: 2, pid: 2, view: b.snapshot(at) as never },
    ]) as unknown as ReturnType<Traffic['snapshot']>;
    expect(merged.window.routes.r!.requests.at(-1)).toBe(2);
    expect(merged.window.routes.r!.errors5xx.at(-1)).toBe(1);
    expect(merged.routes.r).toEqual({ requests: 2, errors5xx: 1, errors4xx: 0, status401: 0, status429: 0 });
    expect(merged.window.routes.r!.p99Ms).toEqual(addWindows([a.snapshot(at).window.routes.r!, b.snapshot(at).window.routes.r!], LATENCY_BOUNDS_MS).p99Ms);
    expect(merged.window.routes.r!.p99Ms).toBeGreaterThan(500);
  });
});
