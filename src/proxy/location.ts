/**
 * Redirects from behind the gateway. An upstream that builds absolute URLs
 * from its own address (`Location: http://10.0.3.7:8080/login`) would send
 * clients to an internal host they cannot reach, and tell them the fleet's
 * layout. `Location` and `Content-Location` values naming the target's own
 * origin (its address, or the Host the gateway sent it) are rewritten to the
 * client-facing origin, with a stripped route prefix put back; any other
 * value (relative, or another site) is passed unchanged. This is what
 * nginx's `proxy_redirect default` does. Computed only for responses that
 * carry one of these headers.
 */
import type { Exchange } from './exchange.js';

/** LocationRewriter maps one header value. */
export type LocationRewriter = (value: string) => string;

/** internalOrigins lists the lower-case origins (and scheme-relative forms) an upstream may use for itself. */
function internalOrigins(ex: Exchange): string[] {
  const t = ex.target!;
  const hosts = new Set<string>([t.url.host.toLowerCase()]);
  const defaultPort = t.url.protocol === 'https:' ? '443' : '80';
  hosts.add(`${t.url.hostname.toLowerCase()}:${t.url.port || defaultPort}`);
  if (t.url.port === defaultPort || t.url.port === '') hosts.add(t.url.hostname.toLowerCase());
  const sent = ex.pool.settings.hostHeader;
  if (sent !== 'target' && sent !== 'client') {
    const literal = sent.toLowerCase();
    hosts.add(literal);
    // The upstream may spell out the default port of the name it was given.
    if (!/:\d+$/.test(literal)) hosts.add(`${literal}:80`).add(`${literal}:443`);
  }
  const out: string[] = [];
  for (const h of hosts) out.push(`http://${h}`, `https://${h}`, `//${h}`);
  return out;
}

/** clientOrigin is the origin the client used: scheme and Host (from a trusted proxy's X-Forwarded-* when present). */
export function clientOrigin(ex: Exchange): string {
  const h = ex.headers;
  const fwdProto = ex.trustedPeer ? h['x-forwarded-proto'] : undefined;
  const fwdHost = ex.trustedPeer ? h['x-forwarded-host'] : undefined;
  const proto = typeof fwdProto === 'string' && /^https?$/i.test(fwdProto) ? fwdProto.toLowerCase() : ex.secure ? 'https' : 'http';
  const host = typeof fwdHost === 'string' && fwdHost !== '' ? fwdHost : h.host;
  // Without a Host the client gets a relative reference, which every client resolves against what it asked.
  return host ? `${proto}://${host}` : '';
}

/** locationRewriter builds the rewriter for one response of one attempt. */
export function locationRewriter(ex: Exchange): LocationRewriter {
  const internal = internalOrigins(ex);
  const external = clientOrigin(ex);
  const strip = ex.route.stripLength;
  const prefix = strip > 0 ? ex.path.slice(0, strip) : '';
  return (value) => {
    const lower = value.toLowerCase();
    for (const origin of internal) {
      if (!lower.startsWith(origin)) continue;
      const next = value.charCodeAt(origin.length);
      // Only a whole authority: `http://10.0.0.1:80` must not match `http://10.0.0.1:8080`.
      if (!(Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */ || next === 35 /* # */)) continue;
      let rest = value.slice(origin.length);
      if (rest.charCodeAt(0) !== 47) rest = '/' + rest;
      return external + prefix + rest;
    }
    return value;
  };
}
