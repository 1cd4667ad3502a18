/**
 * What a stream listener tells the outside: one access-log line per
 * connection (or udp session), whether it was forwarded or refused, and the
 * stream metrics; and the PROXY header an upstream wants. The error codes are
 * the catalog's (src/errors.ts): a stream refusal is logged with the same code
 * an HTTP client would get for the same failure.
 */
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { ProxyEndpoint } from '../proxy-protocol/index.js';
import type { StreamMetrics } from '../telemetry/stream-metrics.js';
import type { ProxyAccept } from './proxy-in.js';
import { proxyHeaderFor } from './proxy-out.js';
import type { StreamLine } from './access-line.js';
import type { StreamRoute } from './route-table.js';
import type { SpliceEnd } from './splice.js';

/** STREAM_ERRORS names the catalog code of each way a stream can be refused or fail. */
export const STREAM_ERRORS = {
  limit: 'SY_ERR_STREAM_LIMIT',
  clientHello: 'SY_ERR_STREAM_CLIENT_HELLO',
  noRoute: 'SY_ERR_STREAM_NO_ROUTE',
  unavailable: 'SY_ERR_UPSTREAM_UNAVAILABLE',
  connect: 'SY_ERR_UPSTREAM_CONNECT',
  timeout: 'SY_ERR_UPSTREAM_TIMEOUT',
  reset: 'SY_ERR_UPSTREAM_RESET',
  clientClosed: 'SY_ERR_CLIENT_CLOSED',
  datagramTooLarge: 'SY_ERR_STREAM_DATAGRAM_TOO_LARGE',
  // A malformed, late or unaccepted PROXY header: the request (here, the connection) is malformed.
  proxyHeader: 'SY_ERR_BAD_REQUEST',
} as const satisfies Record<string, ErrorCode>;

/** END_CODES names the code of an ending that is a failure (the others are normal ends). */
const END_CODES: Partial<Record<SpliceEnd, ErrorCode>> = { 'upstream-reset': STREAM_ERRORS.reset, 'client-reset': STREAM_ERRORS.clientClosed, refused: STREAM_ERRORS.proxyHeader };

/** StreamRecord collects what the access-log line of one connection says. */
export interface StreamRecord {
  listener: string;
  client: string;
  clientPort: number;
  /** peer is the balancer that sent a PROXY header naming `client` (undefined when the client connected directly). */
  peer?: string;
  /** reason explains a refusal found after the stream started (a PROXY header from an unlisted peer). */
  reason?: string;
  /** started is performance.now() at accept. */
  started: number;
  sni?: string | undefined;
  route?: string;
  upstream?: string;
  target?: string | undefined;
}

/** ListenerTotals are one listener's counts since start (admin API, dashboard): connections (udp: sessions) ended and refused, bytes of the ended ones. */
export interface ListenerTotals {
  connections: number;
  refused: number;
  bytesIn: number;
  bytesOut: number;
}

/** StreamContext is what every listener shares: logs, metrics, PROXY headers out. */
export interface StreamContext {
  readonly metrics: StreamMetrics;
  /** totals are each listener's counts since start, by listener name (kept across reloads). */
  readonly totals: Map<string, ListenerTotals>;
  readonly log: Logger;
  /** refused logs and counts a connection that never reached a target. */
  refused(record: StreamRecord, reason: string, code: ErrorCode, detail: string): void;
  /** finished logs and counts a connection that was forwarded, once both sides closed. */
  finished(record: StreamRecord, result: { end: SpliceEnd | 'idle-timeout'; bytesIn: number; bytesOut: number }): void;
  /** proxyHeader is the PROXY protocol header the route's upstream is sent first, if any. */
  proxyHeader(route: StreamRoute, source: ProxyEndpoint, destination: ProxyEndpoint): Buffer | undefined;
  /** proxyAccept says which peers must send a PROXY header (gateway.yaml proxyProtocol.accept; a reload replaces it). */
  proxyAccept: ProxyAccept | undefined;
}

/** streamContext builds the shared context; `access` gives the access log of stream lines (undefined = access log off; asked per line, so a reload applies). */
export function streamContext(log: Logger, access: () => AccessLog<StreamLine> | undefined, metrics: StreamMetrics): StreamContext {
  // The access log says kind: access; `listener` tells a stream line from a request line.
  const line = (r: StreamRecord, bytesIn: number, bytesOut: number, end: string, code: string | undefined, reason: string | undefined, msg: StreamLine['msg']): StreamLine => ({
    listener: r.listener,
    route: r.route,
    upstream: r.upstream,
    target: r.target,
    client: r.client,
    clientPort: r.clientPort,
    peer: r.peer,
    sni: r.sni,
    durationMs: Math.round(performance.now() - r.started),
    bytesIn,
    bytesOut,
    end,
    code,
    reason,
    msg,
  });
  const totals = new Map<string, ListenerTotals>();
  const tally = (listener: string): ListenerTotals => {
    let t = totals.get(listener);
    if (t === undefined) totals.set(listener, (t = { connections: 0, refused: 0, bytesIn: 0, bytesOut: 0 }));
    return t;
  };
  return {
    metrics,
    log,
    totals,
    refused(r, reason, code, detail) {
      tally(r.listener).refused++;
      metrics.dropped(r.listener, reason);
      access()?.write(line(r, 0, 0, 'refused', code, detail, 'stream refused'));
    },
    finished(r, result) {
      const t = tally(r.listener);
      t.connections++;
      t.bytesIn += result.bytesIn;
      t.bytesOut += result.bytesOut;
      metrics.closed(r.listener, r.route ?? '', result.end, result.bytesIn, result.bytesOut);
      if (result.end === 'refused') metrics.dropped(r.listener, 'proxy_header');
      const code = END_CODES[result.end];
      access()?.write(line(r, result.bytesIn, result.bytesOut, result.end, code, r.reason, 'stream closed'));
    },
    proxyHeader(route, source, destination) {
      return route.proxyProtocol === undefined ? undefined : proxyHeaderFor(route.proxyProtocol, source, destination);
    },
    proxyAccept: undefined,
  };
}
