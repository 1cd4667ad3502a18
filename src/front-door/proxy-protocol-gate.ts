/**
 * The PROXY protocol gate of a public listener (`proxyProtocol.accept`). It
 * runs before the HTTP parser or the TLS server sees a connection:
 *
 * - from a listed peer (the load balancer), the connection MUST start with a
 *   valid header of an accepted version within the timeout; the address it
 *   claims becomes the connection's peer (src/http/peer-address.ts). A
 *   `LOCAL` header (the balancer's own health check) or `UNKNOWN` keeps the
 *   real peer. Anything else closes the connection.
 * - from any other peer, a connection that starts with a header is closed:
 *   nobody else can claim an address. (A header split so that its first
 *   segment is shorter than the signature slips past this early check and
 *   reaches the HTTP parser or TLS server as garbage, which refuse it: it is
 *   never believed either way.)
 *
 * Refusals are counted in switchyard_events_total{event="proxy_protocol_refused",
 * result=<reason>} and logged within a per-second line budget (a scanner can
 * make them at will). For TLS the header precedes the ClientHello: the gate
 * reads it on the raw socket and unshifts what follows, which node's TLS
 * server reads first.
 *
 * The gate takes the server's own 'connection' listeners (node's HTTP or TLS
 * connection handling) and calls them once the header is settled, so
 * listeners added later (connection tracking) still see every socket at once.
 */
import { BlockList, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ProxyProtocolDoc } from '../config/proxy-protocol.js';
import { parseDuration } from '../config/duration.js';
import { normalizeIp } from '../http/client-ip.js';
import { claimPeerAddress } from '../http/peer-address.js';
import { claimedSource, readProxyHeader, ProxyProtocolError, V2_SIGNATURE, type ProxyProtocolReason } from '../proxy-protocol/index.js';
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

/** GateRefusal is a refusal reason: the parser's, or `unlisted` (a header from a peer not in `from`). */
export type GateRefusal = ProxyProtocolReason | 'unlisted';

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

/** compileFrom builds the listed-peer check once. */
function compileFrom(from: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of from) {
    const [addr, bits] = entry.split('/');
    const type = isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return (ip) => list.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
}

/** startsWithHeader tells whether a first chunk opens with a PROXY protocol signature (v1 or v2). */
function startsWithHeader(chunk: Buffer): boolean {
  const n = Math.min(chunk.length, V2_SIGNATURE.length);
  if (n >= 5 && chunk.compare(V2_SIGNATURE, 0, n, 0, n) === 0) return true; // no HTTP request or ClientHello starts \r\n\r\n\0
  return chunk.length >= V1_PREFIX.length && chunk.compare(V1_PREFIX, 0, V1_PREFIX.length, 0, V1_PREFIX.length) === 0;
}

/** gateConnections puts the PROXY protocol gate in front of `server`'s connection handling. */
export function gateConnections(server: Server, opts: GateOptions): void {
  const listed = compileFrom(opts.doc.accept.from);
  const read = { versions: opts.doc.accept.versions, timeoutMs: parseDuration(opts.doc.accept.timeout) };
  const inner = server.listeners('connection') as Array<(s: Socket) => void>;
  server.removeAllListeners('connection');
  const budget = new LineBudget(opts.linesPerSecond, (suppressed) => opts.log.warn({ listener: opts.listener, suppressed }, 'proxy protocol refusals not logged (line budget)'));

  const deliver = (socket: Socket): void => {
    if (socket.destroyed) return;
    for (const l of inner) l.call(server, socket);
    if (!opts.tls) socket.resume(); // node's HTTP server reads the handle directly and would skip the unshifted bytes
  };
  const refuse = (socket: Socket, peer: string, reason: GateRefusal, message: string): void => {
    socket.destroy();
    opts.metrics.count('proxy_protocol_refused', { result: reason });
    if (budget.take()) opts.log.warn({ listener: opts.listener, peer, reason }, `proxy protocol: connection refused: ${message}`);
  };

  server.on('connection', (socket: Socket) => {
    const peer = normalizeIp(socket.remoteAddress ?? '');
    // A socket closed by an earlier listener (the connection cap) is left alone.
    if (socket.destroyed) return;
    if (listed(peer)) {
      readProxyHeader(socket, read).then(
        (header) => {
          const source = claimedSource(header);
          if (source !== undefined) claimPeerAddress(socket, source.address);
          deliver(socket);
        },
        (err: unknown) => refuse(socket, peer, err instanceof ProxyProtocolError ? err.reason : 'malformed', err instanceof Error ? err.message : String(err)),
      );
      return;
    }
    // Unlisted: look at the first chunk only, without holding the connection
    // past the header timeout (the listener's own timeouts take over then).
    const onData = (chunk: Buffer): void => {
      settle();
      if (startsWithHeader(chunk)) return refuse(socket, peer, 'unlisted', 'a PROXY protocol header from a peer not in proxyProtocol.accept.from');
      socket.unshift(chunk);
      deliver(socket);
    };
    const onTimeout = (): void => {
      settle();
      deliver(socket);
    };
    const onClose = (): void => settle();
    const onError = (): void => {
      settle();
      socket.destroy(); // a reset before the first byte: nothing to answer
    };
    const timer = setTimeout(onTimeout, read.timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      socket.pause();
    };
    socket.once('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
  });
}
