/**
 * What canary splits report: per route and leg (the leg's upstream), the
 * requests served and their status class, the fallbacks (a leg's pool had no
 * eligible target) and the requests that had no cohort key. The Prometheus
 * series are registered when a split first reports, so a gateway without
 * splits exports none. SplitTraffic keeps the same counts, with a short
 * window of per-second slots, for the live rates of `/routes` and the
 * dashboard.
 */
import type { Registry } from 'prom-client';
import { CounterSeries, type CounterCell } from './series.js';

/** SplitMetrics receives what split routes do. */
export interface SplitMetrics {
  /** served counts a finished request of a split route by the leg that served it. */
  served(route: string, leg: string, status: number): void;
  /** fallback counts a request whose leg had no eligible target, by where it went (primary, or 503). */
  fallback(route: string, leg: string, to: string): void;
  /** unkeyed counts a request without a cohort key (served by the primary). */
  unkeyed(route: string): void;
}

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
const classIndex = (s: number) => (s < 100 ? 0 : Math.min(5, (s / 100) | 0));

/** promSplitMetrics registers the split series in a registry. */
export function promSplitMetrics(registry: Registry): SplitMetrics {
  const requests = new CounterSeries('switchyard_split_requests_total', 'Requests of split routes, by route, leg (the upstream that served) and status class.', registry);
  const fallbacks = new CounterSeries('switchyard_split_fallbacks_total', 'Split requests whose leg had no eligible target, by route, leg and where they went (primary, or 503).', registry);
  const unkeyed = new CounterSeries('switchyard_split_unkeyed_total', 'Split requests without a cohort key (no such claim, header or cookie), served by the primary, by route.', registry);
  // Cells by label strings (route ids and upstream names are long-lived): no label hashing per request.
  const cells = new Map<string, Map<string, (CounterCell | undefined)[]>>();
  const once = new Map<string, CounterCell>();
  const cell = (series: CounterSeries, labels: Record<string, string>) => {
    const k = Object.values(labels).join('\0') + '\0' + series.name;
    let c = once.get(k);
    if (c === undefined) once.set(k, (c = series.cell(labels)));
    return c;
  };
  return {
    served(route, leg, status) {
      let legs = cells.get(route);
      if (legs === undefined) cells.set(route, (legs = new Map()));
      let classes = legs.get(leg);
      if (classes === undefined) legs.set(leg, (classes = []));
      const ci = classIndex(status);
      (classes[ci] ??= requests.cell({ route, leg, status_class: CLASSES[ci]! })).value++;
    },
    fallback: (route, leg, to) => cell(fallbacks, { route, leg, to }).value++,
    unkeyed: (route) => cell(unkeyed, { route }).value++,
  };
}

/** NO_SPLIT_METRICS discards everything. */
export const NO_SPLIT_METRICS: SplitMetrics = { served() {}, fallback() {}, unkeyed() {} };

/** RATE_SLOTS is the window of the live rates, in one-second slots. */
const RATE_SLOTS = 10;

/** LegCount is one leg's counters for `/routes`: totals since start and rates over the last RATE_SLOTS seconds. */
export interface LegCount {
  requests: number;
  errors5xx: number;
  fallbacks: number;
  /** rps and eps are requests and 5xx per second over the last 10 seconds. */
  rps: number;
  eps: number;
}

interface LegRow {
  requests: number;
  errors5xx: number;
  fallbacks: number;
  /** second is the epoch second of the newest slot. */
  second: number;
  readonly slotRequests: Uint32Array;
  readonly slotErrors: Uint32Array;
}

/** SplitTraffic counts split requests per route and leg, with per-second slots for live rates. */
export class SplitTraffic {
  private readonly rows = new Map<string, Map<string, LegRow>>();
  /** unkeyed counts requests without a cohort key, by route. */
  private readonly unkeyedByRoute = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** record counts a finished request of a split route. */
  record(route: string, leg: string, status: number): void {
    const r = this.row(route, leg);
    const s = this.advance(r);
    r.requests++;
    r.slotRequests[s]!++;
    if (status >= 500) {
      r.errors5xx++;
      r.slotErrors[s]!++;
    }
  }

  /** fallback counts a request whose leg had no eligible target (under that leg). */
  fallback(route: string, leg: string): void {
    this.row(route, leg).fallbacks++;
  }

  /** unkeyed counts a request without a cohort key. */
  unkeyed(route: string): void {
    this.unkeyedByRoute.set(route, (this.unkeyedByRoute.get(route) ?? 0) + 1);
  }

  /** leg returns a leg's counters now (zeros when it served nothing yet). */
  leg(route: string, leg: string): LegCount {
    const r = this.rows.get(route)?.get(leg);
    if (r === undefined) return { requests: 0, errors5xx: 0, fallbacks: 0, rps: 0, eps: 0 };
    this.advance(r);
    let req = 0;
    let err = 0;
    for (let i = 0; i < RATE_SLOTS; i++) {
      req += r.slotRequests[i]!;
      err += r.slotErrors[i]!;
    }
    return { requests: r.requests, errors5xx: r.errors5xx, fallbacks: r.fallbacks, rps: req / RATE_SLOTS, eps: err / RATE_SLOTS };
  }

  /** unkeyedCount is the number of requests of a route that had no cohort key. */
  unkeyedCount(route: string): number {
    return this.unkeyedByRoute.get(route) ?? 0;
  }

  private row(route: string, leg: string): LegRow {
    let legs = this.rows.get(route);
    if (legs === undefined) this.rows.set(route, (legs = new Map()));
    let r = legs.get(leg);
    if (r === undefined) {
      r = { requests: 0, errors5xx: 0, fallbacks: 0, second: Math.floor(this.clock() / 1000), slotRequests: new Uint32Array(RATE_SLOTS), slotErrors: new Uint32Array(RATE_SLOTS) };
      legs.set(leg, r);
    }
    return r;
  }

  /** advance moves a row to the current second, clearing the slots that passed; returns the current slot. */
  private advance(r: LegRow): number {
    const now = Math.floor(this.clock() / 1000);
    if (now > r.second) {
      const gap = Math.min(now - r.second, RATE_SLOTS);
      for (let s = now - gap + 1; s <= now; s++) {
        r.slotRequests[s % RATE_SLOTS] = 0;
        r.slotErrors[s % RATE_SLOTS] = 0;
      }
      r.second = now;
    }
    return r.second % RATE_SLOTS;
  }
}
