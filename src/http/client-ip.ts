/**
 * Who is the client? The socket's peer, unless that peer is a proxy the
 * operator trusts (`trustProxy`), in which case X-Forwarded-For is walked from
 * the right past trusted hops. Compiled once from the config.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** ClientIpResolver answers the client address and whether the peer is a trusted proxy. */
export interface ClientIpResolver {
  /** trusted tells whether a peer address is a trusted proxy. */
  trusted(peer: string): boolean;
  /** clientIp returns the client address given the peer and the X-Forwarded-For header. */
  clientIp(peer: string, xff: string | undefined): string;
}

/** normalizeIp strips the IPv4-mapped IPv6 prefix so ::ffff:10.0.0.1 reads as 10.0.0.1. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** peerMatcher compiles a list of addresses and CIDRs (checked at load by validateTrustProxy) into a test of a peer address; IPv4-mapped IPv6 reads as IPv4. */
export function peerMatcher(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const type = isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return (ip) => {
    const n = normalizeIp(ip);
    return list.check(n, isIPv6(n) ? 'ipv6' : 'ipv4');
  };
}

/** createClientIpResolver compiles `trustProxy` (false, true, or a list of CIDRs/addresses). */
export function createClientIpResolver(trustProxy: boolean | string[]): ClientIpResolver {
  if (trustProxy === false) {
    return { trusted: () => false, clientIp: (peer) => normalizeIp(peer) };
  }
  let isTrusted: (ip: string) => boolean;
  if (trustProxy === true) {
    isTrusted = () => true;
  } else {
    isTrusted = peerMatcher(trustProxy);
  }
  return {
    trusted: isTrusted,
    clientIp(peer, xff) {
      const p = normalizeIp(peer);
      if (xff === undefined || !isTrusted(p)) return p;
      const hops = xff.split(',');
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = normalizeIp(hops[i]!.trim());
        if (!hop || !(isIPv4(hop) || isIPv6(hop))) return p; // garbage: fall back to the peer we saw
        if (i === 0 || !isTrusted(hop)) return hop;
      }
      return p;
    },
  };
}

/** validateTrustProxy returns an error message for a malformed trustProxy entry, or undefined. */
export function validateTrustProxy(entry: string): string | undefined {
  const [addr, bits, extra] = entry.split('/');
  if (extra !== undefined || !addr || !(isIPv4(addr) || isIPv6(addr))) return `"${entry}" is not an IP address or CIDR`;
  if (bits !== undefined) {
    const n = Number(bits);
    const max = isIPv6(addr) ? 128 : 32;
    if (!Number.isInteger(n) || n < 0 || n > max) return `"${entry}" has an invalid prefix length`;
  }
  return undefined;
}
