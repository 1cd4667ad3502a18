/**
 * The PROXY protocol header a stream upstream is sent first (`proxyProtocol:
 * v1|v2` on its pool): the client's address (the one a trusted balancer's own
 * PROXY header gave, when accepted) and the listener address it connected to.
 * Encoded by src/proxy-protocol; an address pair of mixed families (an IPv4
 * client on an IPv6 listener) is sent as UNKNOWN/UNSPEC, which tells the
 * upstream to use the connection's own peer, rather than a header it would refuse.
 */
import { normalizeIp } from '../http/client-ip.js';
import { encodeV1, encodeV2, type ProxyEndpoint } from '../proxy-protocol/index.js';

/** plain reads an IPv4-mapped address as IPv4 (::ffff:10.0.0.1 → 10.0.0.1) so families compare as written. */
function plain(e: ProxyEndpoint): ProxyEndpoint {
  return { address: normalizeIp(e.address), port: e.port };
}

/** proxyHeaderFor encodes the header of one connection from `source` (the client) to `destination` (the listener). */
export function proxyHeaderFor(version: 'v1' | 'v2', source: ProxyEndpoint, destination: ProxyEndpoint, transport: 'tcp' | 'udp' = 'tcp'): Buffer {
  const encode = version === 'v1' ? encodeV1 : encodeV2;
  try {
    return encode({ transport, source: plain(source), destination: plain(destination) });
  } catch {
    return encode({ transport });
  }
}
