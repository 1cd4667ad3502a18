/**
 * Why a PROXY protocol header was refused. These never reach a client as a
 * response (the connection is closed); they name the reason in logs and in
 * the refusal metric's `reason` label, so the set is small and stable.
 */

/** ProxyProtocolReason is the stable, label-safe reason a header was refused. */
export type ProxyProtocolReason =
  | 'malformed' // not a header of any accepted version, or a field out of its grammar
  | 'version' // a well-formed header of a version this listener does not accept
  | 'oversize' // longer than the v1 line limit (107 bytes) or the v2 size cap
  | 'checksum' // a v2 CRC32C extension that does not match
  | 'timeout' // the header did not arrive in time
  | 'closed' // the peer closed (or the socket failed) in the middle of the header
  | 'empty'; // the peer closed without sending a byte: a balancer's plain TCP health check, not an attack

/** ProxyProtocolError is a refused header; `reason` is for metrics, `message` for logs. */
export class ProxyProtocolError extends Error {
  constructor(
    readonly reason: ProxyProtocolReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProxyProtocolError';
  }
}
