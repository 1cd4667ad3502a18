/**
 * Header rules at the proxy boundary: hop-by-hop headers never cross it in
 * either direction (RFC 9110 §7.6.1, plus any header the Connection header
 * names), forwarding headers are set by the gateway and never taken from an
 * untrusted client, the gateway's own signalling headers are stripped, and
 * client header names a server could read as another header (`X.User.Id`,
 * `X_User_Id`) are dropped or, when allowed, compared in their folded
 * spelling (header-names.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { foldHeaderName, plainHeaderName, type InvalidHeaders } from '../http/header-names.js';
import { HOP_BY_HOP, connectionListed } from '../http/hop-by-hop.js';

/** FORWARDING lists the headers the gateway sets itself (client copies are dropped unless from a trusted proxy). */
const FORWARDING = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-real-ip',
  'forwarded',
  // Path overrides some frameworks (IIS, older Symfony/Zend) honour over the request line: from a client they bypass routing.
  'x-original-url',
  'x-rewrite-url',
]);

/**
 * MIRROR_HEADERS mark a shadow copy (proxy/mirror.ts). The gateway alone sets
 * them, on copies only: from a client they would make a primary take a real
 * request for a copy (and skip its side effects).
 */
const MIRROR_HEADERS = new Set(['x-mirrored-from', 'x-original-request-id']);

/** ForwardInfo is what the gateway knows about the request it forwards. */
export interface ForwardInfo {
  /** peer is the socket peer address. */
  peer: string;
  /** trustedPeer tells whether the peer is a trusted proxy (its forwarding headers are kept and appended to). */
  trustedPeer: boolean;
  proto: 'http' | 'https';
  /** host is the Host header the client sent. */
  host: string | undefined;
  requestId: string;
  /** hostHeader is the Host to send upstream. */
  upstreamHost: string;
  /** strip lists extra header names to drop (identity headers the chain owns), folded (see foldHeaderName). */
  strip: ReadonlySet<string> | undefined;
  /** removed lists headers plugins removed or replaced for this request, folded. */
  removed: ReadonlySet<string> | undefined;
  /** invalidHeaders says what happens to client header names outside letters, digits and `-` (header-names.ts). */
  invalidHeaders: InvalidHeaders;
  /** traceparent replaces the client's traceparent (and tracestate) when tracing is on. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}


/**
 * upstreamHeaders builds the header list sent upstream as a flat
 * [name, value, name, value, ...] array (what undici takes without copying).
 */
export function upstreamHeaders(headers: IncomingHttpHeaders, info: ForwardInfo, extra?: string[]): string[] {
  const listed = connectionListed(headers.connection);
  const out: string[] = [];
  const traced = info.traceparent !== undefined;
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || name === 'host' || name === 'x-request-id' || MIRROR_HEADERS.has(name)) continue;
    // The gateway answers `Expect: 100-continue` itself (node sends the 100); forwarded, undici would refuse the request.
    if (name === 'expect') continue;
    // HTTP/2 pseudo-headers (:method, :path, :authority, :scheme) never go to an HTTP/1.1 upstream.
    if (name.charCodeAt(0) === 58 /* : */) continue;
    // `X.User.Id`, `x_user_id`: read as `x-user-id` by CGI-style servers. Dropped
    // unless the gateway allows them (`reject` refused the request before routing);
    // allowed, they are matched against every rule below in their folded spelling.
    if (!plainHeaderName(name)) {
      if (info.invalidHeaders !== 'allow') continue;
      const alias = foldHeaderName(name);
      if (HOP_BY_HOP.has(alias) || FORWARDING.has(alias) || alias === 'host' || alias === 'x-request-id' || alias === 'expect' || MIRROR_HEADERS.has(alias)) continue;
      if ((traced && (alias === 'traceparent' || alias === 'tracestate')) || info.strip?.has(alias) || info.removed?.has(alias)) continue;
    }
    if (traced && (name === 'traceparent' || name === 'tracestate')) continue;
    if (FORWARDING.has(name) && !info.trustedPeer) continue;
    if (name === 'x-forwarded-for') continue; // re-added below
    if (listed !== undefined && listed.has(name)) continue;
    if (info.strip !== undefined && info.strip.has(name)) continue;
    if (info.removed !== undefined && info.removed.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  out.push('host', info.upstreamHost);
  const prior = info.trustedPeer ? headers['x-forwarded-for'] : undefined;
  out.push('x-forwarded-for', prior ? `${prior}, ${info.peer}` : info.peer);
  if (!(info.trustedPeer && headers['x-forwarded-proto'])) out.push('x-forwarded-proto', info.proto);
  if (!(info.trustedPeer && headers['x-forwarded-host']) && info.host !== undefined) out.push('x-forwarded-host', info.host);
  out.push('x-request-id', info.requestId);
  if (traced) {
    out.push('traceparent', info.traceparent!);
    if (info.tracestate !== undefined) out.push('tracestate', info.tracestate);
  }
  if (extra !== undefined) for (let i = 0; i < extra.length; i++) out.push(extra[i]!);
  return out;
}


/** RESPONSE_STRIP lists response headers the gateway never passes to clients besides hop-by-hop ones. */
const RESPONSE_STRIP = new Set(['x-session-set', 'x-session-clear']);

/**
 * responseHeaders filters an upstream response's headers for the client as a
 * flat array for res.writeHead, dropping hop-by-hop and gateway-internal ones;
 * `location` rewrites Location and Content-Location (see location.ts).
 */
export function responseHeaders(headers: Record<string, string | string[] | undefined>, requestId: string, location?: (value: string) => string): string[] {
  const listed = connectionListed(headers.connection);
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || RESPONSE_STRIP.has(name) || name === 'x-request-id') continue;
    if (listed !== undefined && listed.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (location !== undefined && (name === 'location' || name === 'content-location') && typeof value === 'string') out.push(name, location(value));
    else if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  out.push('x-request-id', requestId);
  return out;
}
