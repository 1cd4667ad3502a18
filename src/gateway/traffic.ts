/**
 * Cumulative request counters per route and per upstream, kept for the admin
 * dashboard (`GET /stats`), which turns two snapshots into rates. Prometheus
 * has the same numbers with labels; this is the cheap, dependency-free view a
 * browser can poll every second without parsing the exposition format.
 */

/** TrafficCount is one cumulative row: responses sent and how many were 5xx. */
export interface TrafficCount {
  requests: number;
  errors5xx: number;
}

/** TrafficSnapshot is what `GET /stats` returns. */
export interface TrafficSnapshot {
  /** now is the wall clock (epoch ms) of the snapshot, the denominator of rates. */
  now: number;
  total: TrafficCount;
  routes: Record<string, TrafficCount>;
  upstreams: Record<string, TrafficCount>;
}

/** Traffic counts finished requests; one map lookup per key, allocation only for a new route or upstream. */
export class Traffic {
  private readonly total: TrafficCount = { requests: 0, errors5xx: 0 };
  private readonly routes = new Map<string, TrafficCount>();
  private readonly upstreams = new Map<string, TrafficCount>();

  /** record counts one finished request by its route, upstream and final status. */
  record(route: string, upstream: string, status: number): void {
    const err = status >= 500 ? 1 : 0;
    this.total.requests++;
    this.total.errors5xx += err;
    const r = row(this.routes, route);
    r.requests++;
    r.errors5xx += err;
    const u = row(this.upstreams, upstream);
    u.requests++;
    u.errors5xx += err;
  }

  /** snapshot copies the counters (routes and upstreams removed by a reload keep their totals). */
  snapshot(now: number): TrafficSnapshot {
    return { now, total: { ...this.total }, routes: copy(this.routes), upstreams: copy(this.upstreams) };
  }
}

function row(map: Map<string, TrafficCount>, key: string): TrafficCount {
  let c = map.get(key);
  if (c === undefined) {
    c = { requests: 0, errors5xx: 0 };
    map.set(key, c);
  }
  return c;
}

function copy(map: Map<string, TrafficCount>): Record<string, TrafficCount> {
  const out: Record<string, TrafficCount> = Object.create(null) as Record<string, TrafficCount>;
  for (const [k, v] of map) out[k] = { ...v };
  return out;
}
