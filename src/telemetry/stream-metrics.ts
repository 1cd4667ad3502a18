/**
 * The metrics of layer-4 streams: connections open and total by listener and
 * route, bytes each way, connect failures by upstream and target, and
 * connections or datagrams refused or dropped by listener and reason. Series
 * are registered when streams first ask, so a gateway without streams
 * exports none.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** StreamMetrics receives what stream listeners do. */
export interface StreamMetrics {
  /** opened counts a connection (udp: session) routed and connected. */
  opened(listener: string, route: string): void;
  /** closed ends it: how it ended and the bytes from (in) and to (out) the client. */
  closed(listener: string, route: string, end: string, bytesIn: number, bytesOut: number): void;
  /** connectFailed counts a failed connect attempt to a target. */
  connectFailed(listener: string, upstream: string, target: string): void;
  /** dropped counts a connection refused or a datagram dropped before it reached a target (reason: limit, no_route, client_hello, unavailable, proxy_header, too_large, ...). */
  dropped(listener: string, reason: string): void;
}

/** NO_STREAM_METRICS discards everything. */
export const NO_STREAM_METRICS: StreamMetrics = { opened() {}, closed() {}, connectFailed() {}, dropped() {} };

/** RouteTally is one listener/route's counts since start, kept as plain numbers (see promStreamMetrics). */
interface RouteTally {
  readonly listener: string;
  readonly route: string;
  open: number;
  /** closed counts ended connections by how they ended; the byte series exist once one has ended. */
  readonly ends: Map<string, number>;
  bytesIn: number;
  bytesOut: number;
}

/**
 * promStreamMetrics registers the stream series in a registry. Opens and
 * closes, once or twice per connection, go to plain per-route numbers that
 * prom-client reads in its `collect()` at scrape time: a labelled inc/dec
 * hashes its labels on every call, five times per short connection, which
 * measured ~2.7 % of the gateway's CPU under short connections (bench/README.md,
 * journal "Issue 18 … short connections"). Failures and drops, rare, stay labelled calls.
 */
export function promStreamMetrics(registry: Registry): StreamMetrics {
  const registers = [registry];
  const byListener = new Map<string, Map<string, RouteTally>>();
  const tally = (listener: string, route: string): RouteTally => {
    let byRoute = byListener.get(listener);
    if (byRoute === undefined) byListener.set(listener, (byRoute = new Map()));
    let t = byRoute.get(route);
    if (t === undefined) byRoute.set(route, (t = { listener, route, open: 0, ends: new Map(), bytesIn: 0, bytesOut: 0 }));
    return t;
  };
  function* tallies(): Generator<RouteTally> {
    for (const byRoute of byListener.values()) yield* byRoute.values();
  }
  new Gauge({
    name: 'switchyard_stream_connections_open',
    help: 'Stream connections (udp: sessions) open now, by listener and route.',
    labelNames: ['listener', 'route'],
    registers,
    collect() {
      for (const t of tallies()) this.set({ listener: t.listener, route: t.route }, t.open);
    },
  });
  new Counter({
    name: 'switchyard_stream_connections_total',
    help: 'Stream connections (udp: sessions) ended, by listener, route and how they ended.',
    labelNames: ['listener', 'route', 'end'],
    registers,
    collect() {
      this.reset();
      for (const t of tallies()) for (const [end, n] of t.ends) this.inc({ listener: t.listener, route: t.route, end }, n);
    },
  });
  new Counter({
    name: 'switchyard_stream_bytes_total',
    help: 'Stream bytes by listener, route and direction (in: from clients, out: to clients).',
    labelNames: ['listener', 'route', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const t of tallies()) {
        if (t.ends.size === 0) continue;
        this.inc({ listener: t.listener, route: t.route, direction: 'in' }, t.bytesIn);
        this.inc({ listener: t.listener, route: t.route, direction: 'out' }, t.bytesOut);
      }
    },
  });
  const failures = new Counter({ name: 'switchyard_stream_connect_failures_total', help: 'Failed connects to stream targets, by listener, upstream and target.', labelNames: ['listener', 'upstream', 'target'], registers });
  const dropped = new Counter({ name: 'switchyard_stream_dropped_total', help: 'Stream connections refused and datagrams dropped before reaching a target, by listener and reason.', labelNames: ['listener', 'reason'], registers });
  return {
    opened: (listener, route) => {
      tally(listener, route).open++;
    },
    closed: (listener, route, end, bytesIn, bytesOut) => {
      const t = tally(listener, route);
      t.open--;
      t.ends.set(end, (t.ends.get(end) ?? 0) + 1);
      t.bytesIn += bytesIn;
      t.bytesOut += bytesOut;
    },
    connectFailed: (listener, upstream, target) => failures.inc({ listener, upstream, target }),
    dropped: (listener, reason) => dropped.inc({ listener, reason }),
  };
}
