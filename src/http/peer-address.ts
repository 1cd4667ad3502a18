/**
 * The one place the gateway asks "which address is this connection from?".
 * It is the socket's peer, unless the connection came through a load
 * balancer that told us the client's address with the PROXY protocol
 * (accepted only from the peers `proxyProtocol.accept.from` lists): then it
 * is that address, for X-Forwarded-For, trustProxy, ip-hash, ip-filter,
 * rate-limit keys and the access log alike.
 *
 * The claimed address is kept on the raw TCP socket the header was read
 * from. A TLS socket reaches it through `_parent` (node's link from a
 * TLSSocket to the socket it wraps), and an HTTP/2 request's `socket` proxy
 * forwards both lookups to its session's TLS socket.
 */
import type { Socket } from 'node:net';
import { normalizeIp } from './client-ip.js';

const kPeer = Symbol('switchyard.peerAddress');

/** PeerSocket is a socket that may carry a claimed address, itself or on the socket it wraps. */
type PeerSocket = Socket & { [kPeer]?: string; _parent?: PeerSocket | null };

/** claimPeerAddress records the client address a PROXY protocol header gave for this (raw) connection. */
export function claimPeerAddress(socket: Socket, address: string): void {
  (socket as PeerSocket)[kPeer] = normalizeIp(address);
}

/** peerAddress is the connection's peer: the PROXY protocol address when one was accepted, else the socket's, IPv4-mapped IPv6 normalised. */
export function peerAddress(socket: Socket): string {
  const s = socket as PeerSocket;
  return s[kPeer] ?? s._parent?.[kPeer] ?? normalizeIp(socket.remoteAddress ?? '');
}
