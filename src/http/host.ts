/**
 * The Host header: whether a request's is acceptable, and the host it names.
 * Neutral helpers shared by the request path (admission), the HTTPS
 * redirect and the span encoder.
 */
import type { IncomingMessage } from 'node:http';

/** HOST is `uri-host [":" port]` (RFC 9110 §7.2): a reg-name or an IP literal, nothing else (no path, userinfo or spaces). */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::[0-9]{0,5})?$/;

/** badHost tells whether a request carries more than one Host header or a malformed one (RFC 9112 §3.2: 400). */
export function badHost(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (host === undefined) return false; // HTTP/1.0; node refuses a missing Host in HTTP/1.1
  if (!HOST.test(host)) return true;
  const raw = req.rawHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++n > 1) return true;
  }
  return false;
}

/** socketHost is the host net.connect and dgram's send take from a URL: its hostname without an IPv6 literal's brackets. */
export function socketHost(url: URL): string {
  const h = url.hostname;
  return h.charCodeAt(0) === 91 /* [ */ ? h.slice(1, -1) : h;
}

/** hostOf lower-cases a Host header and drops its port. */
export function hostOf(host: string | undefined): string {
  if (host === undefined) return '';
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    return (end === -1 ? h : h.slice(0, end + 1)).toLowerCase();
  }
  const colon = h.indexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  return h.toLowerCase();
}
