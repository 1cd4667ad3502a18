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

  it('answers an empty table when no worker answered', () => {
    expect(mergeRoutes([])).toEqual({ routes: [] });
  });
});
