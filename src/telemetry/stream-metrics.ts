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

/** promStreamMetrics registers the stream series in a registry. */
export function promStreamMetrics(registry: Registry): StreamMetrics {
  const registers = [registry];
  const open = new Gauge({ name: 'switchyard_stream_connections_open', help: 'Stream connections (udp: sessions) open now, by listener and route.', labelNames: ['listener', 'route'], registers });
  const total = new Counter({ name: 'switchyard_stream_connections_total', help: 'Stream connections (udp: sessions) ended, by listener, route and how they ended.', labelNames: ['listener', 'route', 'end'], registers });
  const bytes = new Counter({ name: 'switchyard_stream_bytes_total', help: 'Stream bytes by listener, route and direction (in: from clients, out: to clients).', labelNames: ['listener', 'route', 'direction'], registers });
  const failures = new Counter({ name: 'switchyard_stream_connect_failures_total', help: 'Failed connects to stream targets, by listener, upstream and target.', labelNames: ['listener', 'upstream', 'target'], registers });
  const dropped = new Counter({ name: 'switchyard_stream_dropped_total', help: 'Stream connections refused and datagrams dropped before reaching a target, by listener and reason.', labelNames: ['listener', 'reason'], registers });
  return {
    opened: (listener, route) => open.inc({ listener, route }),
    closed: (listener, route, end, bytesIn, bytesOut) => {
      open.dec({ listener, route });
      total.inc({ listener, route, end });
      bytes.inc({ listener, route, direction: 'in' }, bytesIn);
      bytes.inc({ listener, route, direction: 'out' }, bytesOut);
    },
    connectFailed: (listener, upstream, target) => failures.inc({ listener, upstream, target }),
    dropped: (listener, reason) => dropped.inc({ listener, reason }),
  };
}
