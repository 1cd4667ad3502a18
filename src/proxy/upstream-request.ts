/**
 * The upstream request of an exchange, assembled the same way for a
 * forwarded request (forward.ts) and a WebSocket upgrade (websocket.ts): the
 * target it goes to (sticky or balanced) and the headers it carries — the
 * client's, filtered, then the gateway's forwarding headers, the Host the
 * upstream is configured to see, the request id, trace headers and the
 * headers plugins set. The filtering rules themselves are in headers.ts.
 */
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { chooseTarget } from '../upstream/sticky.js';
import type { Exchange } from './exchange.js';
import { upstreamHeaders } from './headers.js';

/**
 * pickTarget chooses the target of an exchange's next attempt: its sticky
 * target when it has one, else the balancer's pick, never `exclude` when
 * another is eligible. Undefined when no target is eligible.
 */
export function pickTarget(ex: Exchange, exclude?: Target): Target | undefined {
  const upstream = ex.pool;
  return upstream.sticky === undefined ? upstream.pick(ex.clientIp, exclude) : chooseTarget(upstream.sticky, ex, upstream, exclude);
}

/** claimTarget counts an attempt at `target`: in flight (least-connections, drain) until the attempt releases it. */
export function claimTarget(ex: Exchange, target: Target): void {
  ex.attempts++;
  ex.target = target;
  target.inflight++;
  target.requests++;
}

/**
 * upstreamHost is the Host header sent to `target`: the target's own
 * host:port (`hostHeader: target`), the client's Host (`client`; the
 * target's when the client sent none, as over HTTP/1.0), or a fixed name.
 */
export function upstreamHost(hostHeader: string, clientHost: string | undefined, target: Target): string {
  if (hostHeader === 'target') return target.hostPort;
  if (hostHeader === 'client') return clientHost ?? target.hostPort;
  return hostHeader;
}

/**
 * upstreamRequestHeaders builds the header list of an attempt at `target`
 * as the flat [name, value, ...] array undici takes without copying. A
 * mirrored copy (mirror.ts) builds its own the same way, for its shadow
 * pool and under its own request id.
 */
export function upstreamRequestHeaders(ex: Exchange, target: Target, pool: Upstream = ex.pool, requestId: string = ex.id): string[] {
  const host = ex.headers.host;
  return upstreamHeaders(
    ex.headers,
    {
      peer: ex.peer,
      trustedPeer: ex.trustedPeer,
      proto: ex.secure ? 'https' : 'http',
      host,
      requestId,
      upstreamHost: upstreamHost(pool.settings.hostHeader, host, target),
      strip: ex.route.chain.ownedHeaders,
      removed: ex.removed,
      invalidHeaders: ex.runtime.invalidHeaders,
      traceparent: ex.traceparent,
      tracestate: ex.tracestate,
    },
    ex.extraHeaders,
  );
}
