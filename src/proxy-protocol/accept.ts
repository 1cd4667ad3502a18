/**
 * The accepting side's policy, shared by every listener that takes the
 * PROXY protocol (the public HTTP listeners, the TCP/TLS streams): from the
 * listed peers (the load balancers) a header is required; from any other
 * peer a connection that opens with one is refused, so nobody else can claim
 * an address. Compiled once per listener; one call per connection.
 */
import type { Socket } from 'node:net';
import { normalizeIp, peerMatcher } from '../http/client-ip.js';
import { ProxyProtocolError, type ProxyProtocolReason } from './errors.js';
import { claimedSource, type ProxyHeader, type ProxyVersion } from './header.js';
import { readProxyHeader } from './reader.js';
import { V1_PREFIX } from './v1.js';
import { V2_SIGNATURE } from './v2.js';

/** AcceptPolicy is `proxyProtocol.accept`: the listed peers (addresses or CIDRs, already validated), versions, header deadline. */
export interface AcceptPolicy {
  readonly from: readonly string[];
  readonly versions?: readonly ProxyVersion[];
  /** timeoutMs: how long a listed peer has for the whole header, and how long an unlisted one is watched for one. Default 3000. */
  readonly timeoutMs?: number;
  /** maxBytes caps a v2 header (default 4096). */
  readonly maxBytes?: number;
}

/** AcceptRefusal names why a connection was refused: the parser's reason, or `unlisted` (a header from a peer not listed). */
export type AcceptRefusal = ProxyProtocolReason | 'unlisted';

/**
 * Accepted is a connection allowed through: `address` is the client address
 * the header claimed, absent when the real peer stands (an unlisted peer
 * without header, a LOCAL or UNKNOWN header). The socket is paused with
 * anything read after the header unshifted; the next consumer resumes it.
 */
export interface Accepted {
  readonly ok: true;
  readonly address?: string;
  readonly header?: ProxyHeader;
}

/** Refused is a connection to close; `peer` is the real peer, for the log. */
export interface Refused {
  readonly ok: false;
  readonly reason: AcceptRefusal;
  readonly message: string;
  readonly peer: string;
}

/** startsWithHeader tells whether a first chunk opens with a PROXY protocol signature (v1 or v2). */
export function startsWithHeader(chunk: Buffer): boolean {
  const n = Math.min(chunk.length, V2_SIGNATURE.length);
  // No HTTP request or TLS ClientHello starts \r\n\r\n\0, so 5 bytes of the v2 signature tell.
  if (n >= 5 && chunk.compare(V2_SIGNATURE, 0, n, 0, n) === 0) return true;
  return chunk.length >= V1_PREFIX.length && chunk.compare(V1_PREFIX, 0, V1_PREFIX.length, 0, V1_PREFIX.length) === 0;
}

/** compileAcceptPolicy builds the per-connection check once. */
export function compileAcceptPolicy(policy: AcceptPolicy): (socket: Socket) => Promise<Accepted | Refused> {
  const listed = peerMatcher(policy.from);
  const timeoutMs = policy.timeoutMs ?? 3000;
  const read = { timeoutMs, ...(policy.versions ? { versions: policy.versions } : {}), ...(policy.maxBytes ? { maxBytes: policy.maxBytes } : {}) };

  return async (socket) => {
    const peer = normalizeIp(socket.remoteAddress ?? '');
    if (listed(peer)) {
      try {
        const header = await readProxyHeader(socket, read);
        const address = claimedSource(header)?.address;
        return address === undefined ? { ok: true, header } : { ok: true, header, address };
      } catch (err) {
        const reason = err instanceof ProxyProtocolError ? err.reason : 'malformed';
        return { ok: false, reason, message: err instanceof Error ? err.message : String(err), peer };
      }
    }
    return watchUnlisted(socket, peer, timeoutMs);
  };
}

/**
 * watchUnlisted looks at an unlisted peer's first chunk only: a header is
 * refused, anything else is unshifted and let through. It never holds a
 * connection past the timeout (the listener's own timeouts take over then).
 * A header split so that its first chunk is shorter than the signature is
 * not caught here; it reaches the next consumer as garbage, never believed.
 */
function watchUnlisted(socket: Socket, peer: string, timeoutMs: number): Promise<Accepted | Refused> {
  return new Promise((resolve) => {
    const settle = (result: Accepted | Refused, chunk?: Buffer): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onClose);
      socket.pause();
      if (chunk) socket.unshift(chunk);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      if (startsWithHeader(chunk)) settle({ ok: false, reason: 'unlisted', message: 'a PROXY protocol header from a peer not in proxyProtocol.accept.from', peer });
      else settle({ ok: true }, chunk);
    };
    // Closed or reset before a byte: nothing was claimed; the consumer finds the socket closed (no refusal to count).
    const onClose = (): void => settle({ ok: true });
    const timer = setTimeout(() => settle({ ok: true }), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}
