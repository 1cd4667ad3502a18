/**
 * The config shape of `proxyProtocol` in gateway.yaml: from which peers the
 * public listener requires a PROXY protocol header (the load balancer in front
 * of the gateway), which versions, and how long it waits for one; and the
 * check of the peer list, with the address parser trustProxy and ip-filter use.
 */
import { Type, type Static } from '@sinclair/typebox';
import { addressListErrors } from './address-list.js';
import { Duration } from './duration.js';
import type { ConfigError, DocSource } from './errors.js';
import { Strict } from './schema-common.js';

/** ProxyProtocolSchema declares `proxyProtocol`. */
export const ProxyProtocolSchema = Strict(
  {
    accept: Strict(
      {
        from: Type.Array(Type.String(), {
          minItems: 1,
          description: 'Peers (addresses or CIDRs, e.g. 10.0.0.0/8) that must send a PROXY protocol header: the load balancers in front. A header from any other peer is refused.',
        }),
        versions: Type.Array(Type.Union([Type.Literal('v1'), Type.Literal('v2')]), {
          minItems: 1,
          uniqueItems: true,
          default: ['v1', 'v2'],
          description: 'Header versions accepted: v1 (text) and/or v2 (binary, what send-proxy-v2 and cloud NLBs send).',
        }),
        timeout: Duration({ default: '3s', description: 'Time a listed peer has to send the whole header; the connection is closed after.' }),
      },
      { description: 'Accept the PROXY protocol on the public listeners (HTTP, HTTPS and the HTTPS redirect) and on stream listeners (udp: v2 DGRAM headers only).' },
    ),
  },
  { description: 'The PROXY protocol: client addresses passed by a TCP load balancer in front of the gateway.' },
);

/** ProxyProtocolDoc is a validated `proxyProtocol` (defaults applied). */
export type ProxyProtocolDoc = Static<typeof ProxyProtocolSchema>;

/** proxyProtocolErrors checks each `proxyProtocol.accept.from` entry is an address or CIDR, at its file:line. */
export function proxyProtocolErrors(doc: unknown, source: DocSource): ConfigError[] {
  return addressListErrors(doc, source, ['proxyProtocol', 'accept', 'from']);
}
