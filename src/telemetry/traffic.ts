/**
 * Request counters per route and per upstream, kept for the admin dashboard
 * (`GET /stats`): cumulative counts by status kind (the dashboard turns two
 * snapshots into rates), and a short rolling window (the last 5 minutes in
 * 10-second slots) of requests, 5xx and latency, for sparklines and p50/p99.
 * Prometheus has the same numbers with labels; this is the cheap,
 * dependency-free view a browser can poll every second without parsing the
 * exposition format. Requests refused before routing (404s and the like)
 * count in the total and under `unrouted`, as /metrics counts them (route "").
 */
import { quantile, type LatencyWindow } from './traffic-window.js';

/** TrafficCount is one cumulative row: responses sent, and how many were 5xx, 4xx, 401 and 429. */
export interface TrafficCount {
  requests: number;
  errors5xx: number;
  errors4xx: number;
  status401: number;
  status429: number;
}

/** TrafficSnapshot is what `GET /stats` returns. */
export interface TrafficSnapshot {
  /** now is the wall clock (epoch ms) of the snapshot, the denominator of rates. */
  now: number;
  total: TrafficCount;
  /** unrouted counts requests answered before a route matched (404, 400, 414, 431). */
  unrouted: TrafficCount;
  routes: Record<string, TrafficCount>;
  upstreams: Record<string, TrafficCount>;
  /** window is the rolling history (raw slot counts, so cluster workers' windows add up). */
  window: TrafficWindows;
}

/** TrafficWindows holds the rolling window of every row, oldest slot first, the last one still filling. */
export interface TrafficWindows {
  stepMs: number;
  /** end is the epoch ms where the newest slot ends (it starts at end - stepMs). */
  end: number;
  /** latencyBoundsMs are the upper bounds of the latency buckets (one more bucket counts the slower ones). */
  latencyBoundsMs: readonly number[];
  total: LatencyWindow;
  routes: Record<string, LatencyWindow>;
  upstreams: Record<string, LatencyWindow>;
}

/** STEP_MS is the width of one history slot; SLOTS of them make the 5-minute window. */
export const STEP_MS = 10_000;
export const SLOTS = 30;
/** LATENCY_BOUNDS_MS are the latency bucket bounds: p50/p99 are interpolated within one bucket. */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000];
const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** Row is one key's counters and its ring of slots. */
interface Row {
  readonly count: TrafficCount;
  /** step is the index (epoch ms / STEP_MS) of the newest slot. */
  step: number;
  readonly requests: Uint32Array;
  readonly errors: Uint32Array;
  /** latency holds BUCKETS counts per slot. */
  readonly latency: Uint32Array;
}

function newRow(): Row {
  return {
    count: { requests: 0, errors5xx: 0, errors4xx: 0, status401: 0, status429: 0 },
    step: 0,
    requests: new Uint32Array(SLOTS),
    errors: new Uint32Array(SLOTS),
    latency: new Uint32Array(SLOTS * BUCKETS),
  };
}

/** advance moves a row's ring to `step`, clearing the slots that passed without traffic. */
function advance(row: Row, step: number): void {
  if (step <= row.step) return; // the clock went back: keep filling the newest slot
  const gap = Math.min(step - row.step, SLOTS);
  for (let s = step - gap + 1; s <= step; s++) {
    const i = s % SLOTS;
    row.requests[i] = 0;
    row.errors[i] = 0;
    row.latency.fill(0, i * BUCKETS, (i + 1) * BUCKETS);
  }
  row.step = step;
}

function bucketOf(ms: number): number {
  const b = LATENCY_BOUNDS_MS;
  for (let i = 0; i < b.length; i++) if (ms <= b[i]!) return i;
  return b.length;
}

function add(row: Row, step: number, status: number, bucket: number): void {
  const c = row.count;
  c.requests++;
  if (status >= 500) c.errors5xx++;
  else if (status >= 400) {
    c.errors4xx++;
    if (status === 401) c.status401++;
    else if (status === 429) c.status429++;
  }
  advance(row, step);
  const i = row.step % SLOTS;
  row.requests[i]!++;
  if (status >= 500) row.errors[i]!++;
  row.latency[i * BUCKETS + bucket]!++;
}

/** windowOf renders a row's ring oldest slot first, with its latency summed over the window. */
function windowOf(row: Row, step: number): LatencyWindow {
  advance(row, step);
  const requests: number[] = [];
  const errors5xx: number[] = [];
  const latency = new Array<number>(BUCKETS).fill(0);
  for (let s = step - SLOTS + 1; s <= step; s++) {
    const i = ((s % SLOTS) + SLOTS) % SLOTS;
    requests.push(row.requests[i]!);
    errors5xx.push(row.errors[i]!);
    for (let b = 0; b < BUCKETS; b++) latency[b]! += row.latency[i * BUCKETS + b]!;
  }
  return { requests, errors5xx, latency, p50Ms: quantile(latency, LATENCY_BOUNDS_MS, 0.5), p99Ms: quantile(latency, LATENCY_BOUNDS_MS, 0.99) };
}

/** Traffic counts finished requests; a few map lookups and increments per request, allocation only for a new route or upstream. */
export class Traffic {
  private readonly total = newRow();
  private readonly unroutedRow = newRow();
  private readonly routes = new Map<string, Row>();
  private readonly upstreams = new Map<string, Row>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** record counts one finished request by its route, upstream, final status and duration. */
  record(route: string, upstream: string, status: number, ms: number): void {
    const step = Math.floor(this.clock() / STEP_MS);
    const bucket = bucketOf(ms);
    add(this.total, step, status, bucket);
    add(row(this.routes, route), step, status, bucket);
    add(row(this.upstreams, upstream), step, status, bucket);
  }

  /** unrouted counts one request answered before a route matched. */
  unrouted(status: number, ms: number): void {
    const step = Math.floor(this.clock() / STEP_MS);
    const bucket = bucketOf(ms);
    add(this.total, step, status, bucket);
    add(this.unroutedRow, step, status, bucket);
  }

  /** snapshot copies the counters (routes and upstreams removed by a reload keep their totals). */
  snapshot(now: number): TrafficSnapshot {
    const step = Math.floor(now / STEP_MS);
    const windows = (map: Map<string, Row>) => {
      const out = Object.create(null) as Record<string, LatencyWindow>;
      for (const [k, r] of map) out[k] = windowOf(r, step);
      return out;
    };
    return {
      now,
      total: { ...this.total.count },
      unrouted: { ...this.unroutedRow.count },
      routes: counts(this.routes),
      upstreams: counts(this.upstreams),
      window: { stepMs: STEP_MS, end: (step + 1) * STEP_MS, latencyBoundsMs: LATENCY_BOUNDS_MS, total: windowOf(this.total, step), routes: windows(this.routes), upstreams: windows(this.upstreams) },
    };
  }
}

function row(map: Map<string, Row>, key: string): Row {
  let r = map.get(key);
  if (r === undefined) {
    r = newRow();
    map.set(key, r);
  }
  return r;
}

function counts(map: Map<string, Row>): Record<string, TrafficCount> {
  const out: Record<string, TrafficCount> = Object.create(null) as Record<string, TrafficCount>;
  for (const [k, v] of map) out[k] = { ...v.count };
  return out;
}
