/**
 * The primary's GET /routes in cluster mode: every worker holds the same
 * table, but each counts its own shadow copies, so a route's mirror counters
 * are summed over the workers (routes without a mirror pass unchanged).
 */
import { describe, expect, it } from 'vitest';
import { mergeRoutes } from '../../src/cluster/merge.js';

const view = (sent: number, dropped: number) => ({
  version: 3,
  routes: [
    { id: 'plain', upstream: 'a', mirror: null },
    { id: 'orders', upstream: 'a', mirror: { upstream: 'shadow', percent: 5, counts: { sent, dropped, ok: sent } } },
  ],
});

describe('mergeRoutes', () => {
  it("sums each route's mirror counters over the workers and keeps the first worker's table", () => {
    const merged = mergeRoutes([
      { worker: 1, pid: 11, view: view(3, 1) },
      { worker: 2, pid: 12, view: view(4, 0) },
    ]);
    expect(merged).toEqual({
      version: 3,
      routes: [
        { id: 'plain', upstream: 'a', mirror: null },
        { id: 'orders', upstream: 'a', mirror: { upstream: 'shadow', percent: 5, counts: { sent: 7, dropped: 1, ok: 7 } } },
      ],
    });
  });

  it("19: sums a split's per-leg traffic over the workers; shares and eligible targets are the first worker's", () => {
    const split = (a: number, b: number) => ({
      version: 1,
      routes: [
        {
          id: 'orders',
          upstream: 'v1',
          mirror: null,
          split: {
            by: 'claim:sub',
            unkeyed: a,
            legs: [
              { upstream: 'v1', primary: true, cohorts: 90, eligible: 3, requests: a, errors5xx: 1, fallbacks: 0, rps: 1.5, eps: 0 },
              { upstream: 'v2', primary: false, cohorts: 10, eligible: 2, requests: b, errors5xx: 0, fallbacks: 2, rps: 0.25, eps: 0 },
            ],
          },
        },
      ],
    });
    const merged = mergeRoutes([
      { worker: 1, pid: 11, view: split(10, 2) },
      { worker: 2, pid: 12, view: split(30, 4) },
    ]) as { routes: Array<{ split: { unkeyed: number; legs: unknown[] } }> };
    expect(merged.routes[0]!.split.unkeyed).toBe(40);
    expect(merged.routes[0]!.split.legs).toEqual([
      { upstream: 'v1', primary: true, cohorts: 90, eligible: 3, requests: 40, errors5xx: 2, fallbacks: 0, rps: 3, eps: 0 },
      { upstream: 'v2', primary: false, cohorts: 10, eligible: 2, requests: 6, errors5xx: 0, fallbacks: 4, rps: 0.5, eps: 0 },
    ]);
  });

  it('answers an empty table when no worker answered', () => {
    expect(mergeRoutes([])).toEqual({ routes: [] });
  });
});
