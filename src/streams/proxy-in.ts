/**
 * Accepting the PROXY protocol on stream listeners (gateway.yaml
 * `proxyProtocol.accept`): peers in `from` must send a header, whose source
 * address then stands for the client everywhere (ip-hash, the access log, the
 * PROXY header sent on); everyone else's connection is taken as it is, so a
 * client outside the list cannot claim an address. Compiled once per configuration.
 */
import { peerMatcher } from '../http/client-ip.js';
import type { ProxyVersion } from '../proxy-protocol/index.js';

/** ProxyAccept says which peers must send a PROXY header, and which versions. */
export interface ProxyAccept {
  /** required tells whether a peer must send a header. */
  required(peer: string): boolean;
  readonly versions: readonly ProxyVersion[];
  /** timeoutMs bounds how long the header may take. */
  readonly timeoutMs: number;
}

/** compileProxyAccept compiles `from` (addresses and CIDRs); undefined when accepting is off. */
export function compileProxyAccept(doc: { from: readonly string[]; versions?: readonly ProxyVersion[]; timeoutMs?: number } | undefined): ProxyAccept | undefined {
  if (doc === undefined || doc.from.length === 0) return undefined;
  const listed = peerMatcher(doc.from);
  return {
    required: listed,
    versions: doc.versions ?? ['v1', 'v2'],
    timeoutMs: doc.timeoutMs ?? 3000,
  };
}
