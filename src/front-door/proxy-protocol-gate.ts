/**
 * The PROXY protocol gate of a public listener (`proxyProtocol.accept`). It
 * runs before the HTTP parser or the TLS server sees a connection, with the
 * policy of src/proxy-protocol/accept.ts:
 *
 * - from a listed peer (the load balancer), the connection MUST start with a
 *   valid header of an accepted version within the timeout; the address it
 *   claims becomes the connection's peer (src/http/peer-address.ts). A
 *   `LOCAL` header (the balancer's own health check) or `UNKNOWN` keeps the
 *   real peer. Anything else closes the connection. A connection closed
 *   before its first byte (a balancer's plain TCP health check) is not
 *   counted as a refusal.
 * - from any other peer, a connection that starts with a header is closed:
 *   nobody else can claim an address.
 *
 * Refusals are counted in switchyard_events_total{event="proxy_protocol_refused",
 * result=<reason>} and logged within a per-second line budget (a scanner can
 * make them at will). For TLS the header precedes the ClientHello: it is read
 * on the raw socket and what follows is unshifted, which node's TLS server
 * reads first.
 *
 * The gate takes the server's own 'connection' listeners (node's HTTP or TLS
 * connection handling) and calls them once the header is settled, so
 * listeners added later (connection tracking) still see every socket at once.
 */
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ProxyProtocolDoc } from '../config/proxy-protocol.js';
import { parseDuration } from '../config/duration.js';
import { claimPeerAddress } from '../http/peer-address.js';
import { compileAcceptPolicy } from '../proxy-protocol/index.js';
import type { MetricsSink } from '../telemetry/observer.js';
import { LineBudget } from '../telemetry/line-budget.js';

/** GateOptions is what the gate needs: the config, whether the server is TLS, where refusals go. */
export interface GateOptions {
  doc: ProxyProtocolDoc;
  /** tls: the server is a TLS server, which reads the unshifted bytes itself (an HTTP server needs its socket resumed). */
  tls: boolean;
  /** listener names the listener in logs ('public', 'redirect'). */
  listener: string;
  log: Logger;
  metrics: Pick<MetricsSink, 'count'>;
  /** linesPerSecond is the refusal log budget (log.refusalLinesPerSecond). */
  linesPerSecond: () => number;
}

/** gateConnections puts the PROXY protocol gate in front of `server`'s connection handling. */
export function gateConnections(server: Server, opts: GateOptions): void {
  const { accept } = opts.doc;
  const check = compileAcceptPolicy({ from: accept.from, versions: accept.versions, timeoutMs: parseDuration(accept.timeout) });
  const inner = server.listeners('connection') as Array<(s: Socket) => void>;
  server.removeAllListeners('connection');
  const budget = new LineBudget(opts.linesPerSecond, (suppressed) => opts.log.warn({ listener: opts.listener, suppressed }, 'proxy protocol refusals not logged (line budget)'));

  server.on('connection', (socket: Socket) => {
    // A socket closed by an earlier listener (the connection cap) is left alone.
    if (socket.destroyed) return;
    void check(socket).then((result) => {
      if (!result.ok) {
        socket.destroy();
        if (result.reason === 'empty') return; // the balancer's TCP health check (connect, close): nothing to count or log
        opts.metrics.count('proxy_protocol_refused', { result: result.reason });
        if (budget.take()) opts.log.warn({ listener: opts.listener, peer: result.peer, reason: result.reason }, `proxy protocol: connection refused: ${result.message}`);
        return;
      }
      if (result.address !== undefined) claimPeerAddress(socket, result.address);
      if (socket.destroyed) return;
      for (const l of inner) l.call(server, socket);
      if (!opts.tls) socket.resume(); // node's HTTP server reads the handle directly and would skip the unshifted bytes
    });
  });
}
