/**
 * The admin view of a route's canary split (GET /routes, the dashboard):
 * the key, the legs with their share of the cohorts and live request and
 * 5xx rates, the overrides and the fallback. Counts are this process's (in
 * cluster mode, the worker that answered /routes).
 */
import type { CompiledRoute } from '../proxy/runtime.js';
import type { CompiledMatch } from '../routing/route-match.js';
import type { SplitTraffic } from '../telemetry/split-metrics.js';

/** SplitCounts is what the view reads of the split traffic counters. */
export type SplitCounts = Pick<SplitTraffic, 'leg' | 'unkeyedCount'>;

/** conditionsOf renders compiled conditions as they are written (methods, host, headers, query, cookies). */
export function conditionsOf(m: CompiledMatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.methods) out.methods = [...m.methods];
  if (m.host) out.host = m.host.exact ?? `*${m.host.suffix}`;
  if (m.headers.length > 0) out.headers = Object.fromEntries(m.headers);
  if (m.query.length > 0) out.query = Object.fromEntries(m.query);
  if (m.cookies.length > 0) out.cookies = Object.fromEntries(m.cookies);
  return out;
}

/** splitView describes a route's split, or null when it has none. */
export function splitView(route: CompiledRoute, counts: SplitCounts | undefined) {
  const s = route.split;
  if (s === undefined) return null;
  return {
    by: s.by === '' ? null : s.by,
    // The gateway's own cohort cookie, when `by` is not set.
    cookie: s.cookie?.name ?? null,
    salt: s.salt,
    fallback: s.fallback,
    primary: s.primary.name,
    weights: s.shares.map((w) => ({ upstream: w.upstream.name, weight: w.weight, buckets: w.to > w.from ? [w.from, w.to - 1] : null })),
    overrides: s.overrides.map((o) => ({ upstream: o.upstream.name, when: conditionsOf(o.when) })),
    // One row per pool: its share of the cohorts (percent of buckets), its health, and what it served.
    legs: s.legs.map((u) => ({
      upstream: u.name,
      primary: u === s.primary,
      cohorts: s.owner.filter((o) => o === u).length,
      eligible: u.eligible.length,
      ...(counts?.leg(route.id, u.name) ?? { requests: 0, errors5xx: 0, fallbacks: 0, rps: 0, eps: 0 }),
    })),
    unkeyed: counts?.unkeyedCount(route.id) ?? 0,
  };
}
