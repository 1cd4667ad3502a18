/**
 * The PROXY protocol header (HAProxy's spec, versions 1 and 2) as the parsers
 * return it and the encoders take it. A load balancer in `mode tcp` puts it
 * in front of a connection's bytes to tell the next hop who the client was.
 */

/** ProxyVersion names the two wire formats: v1 is a text line, v2 a binary block. */
export type ProxyVersion = 'v1' | 'v2';

/**
 * ProxyCommand: `proxy` carries a client's addresses; `local` (v2 only) is a
 * connection the balancer opened itself, such as its health check, and the
 * receiver uses the real peer address.
 */
export type ProxyCommand = 'proxy' | 'local';

/**
 * ProxyTransport is the address family and transport of the proxied
 * connection; `unknown` (v1 `UNKNOWN`, v2 `UNSPEC`) means the sender could not
 * tell, and the receiver ignores any addresses and uses the real peer.
 */
export type ProxyTransport = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix-stream' | 'unix-dgram' | 'unknown';

/** ProxyEndpoint is one end of the proxied connection; for UNIX sockets `address` is the path and `port` is 0. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

/** ProxyTlv is one v2 type-length-value extension (ALPN, authority, a cloud's endpoint id, …), its value as sent. */
export interface ProxyTlv {
  readonly type: number;
  readonly value: Buffer;
}

/** ProxyHeader is a parsed header; `source`/`destination` are present only when they carry meaning (command `proxy`, a known transport). */
export interface ProxyHeader {
  readonly version: ProxyVersion;
  readonly command: ProxyCommand;
  readonly transport: ProxyTransport;
  readonly source?: ProxyEndpoint;
  readonly destination?: ProxyEndpoint;
  /** tlvs lists the v2 extensions in wire order (empty for v1). */
  readonly tlvs: readonly ProxyTlv[];
}

/** TLV holds the v2 extension types this module knows by name (the spec's PP2_TYPE_*). */
export const TLV = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
} as const;

/**
 * claimedSource is the client address a header asserts, or undefined when
 * the receiver must use the real peer instead (a `local` health check, an
 * `unknown` transport, a UNIX socket).
 */
export function claimedSource(header: ProxyHeader): ProxyEndpoint | undefined {
  if (header.command !== 'proxy') return undefined;
  if (header.transport === 'unknown' || header.transport === 'unix-stream' || header.transport === 'unix-dgram') return undefined;
  return header.source;
}
