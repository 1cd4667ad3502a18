/**
 * Cross-site WebSocket hijacking protection. A browser attaches the user's
 * cookies (and HTTP credentials it has cached) to a WebSocket handshake
 * whichever page opens it, and a handshake has no CORS preflight: a page on
 * another site could open the socket as the signed-in user and read what
 * comes back. The one signal a page cannot forge is Origin, which browsers
 * send on every handshake. The rule, per route:
 *
 * - An upgrade carrying ambient credentials (a Cookie header, or an
 *   Authorization scheme browsers replay by themselves: Basic, Digest,
 *   Negotiate, NTLM) and an Origin is refused unless the Origin is the
 *   gateway's own (the scheme and host the client used) or listed in the
 *   route's `websocketOrigins`. `Origin: null` is neither.
 * - A route that lists `websocketOrigins` checks every upgrade that carries
 *   an Origin the same way, credentials or not (for routes that trust the
 *   client's network position, such as ip-filter ones).
 * - An upgrade without Origin is not from a browser page: not checked
 *   (token-authenticated clients).
 *
 * Patterns use the cors plugin's syntax (`https://*.example.com` for one or
 * more leading labels, like `match.host`; `http://localhost:*` for any port),
 * compiled once at load.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { compileOrigins, type OriginMatcher } from '../http/origins.js';

/** BROWSER_AUTH matches Authorization schemes a browser sends on its own once the user has logged in. */
const BROWSER_AUTH = /^\s*(?:basic|digest|negotiate|ntlm)(?:\s|$)/i;

/** compileWebSocketOrigins compiles a route's `websocketOrigins`; throws a message naming what is wrong. */
export function compileWebSocketOrigins(list: readonly string[] | undefined): OriginMatcher | undefined {
  if (list === undefined) return undefined;
  if (list.some((o) => o.trim() === '*')) {
    throw new Error('"*" would let any site open WebSockets with your users\' cookies: list the origins of your own pages');
  }
  try {
    return compileOrigins(list);
  } catch (err) {
    throw new Error((err as Error).message.replace(/^origins: /, ''));
  }
}

/** ambientCredentials tells whether a request carries credentials a browser adds without the page asking. */
function ambientCredentials(headers: IncomingHttpHeaders): boolean {
  const cookie = headers.cookie;
  if (cookie !== undefined && cookie !== '') return true;
  const auth = headers.authorization;
  return auth !== undefined && BROWSER_AUTH.test(auth);
}

/** normalizeOrigin lower-cases an origin and drops its scheme's default port (browsers never send it; Host may carry it). */
function normalizeOrigin(origin: string): string {
  const o = origin.toLowerCase();
  if (o.startsWith('https://') && o.endsWith(':443')) return o.slice(0, -4);
  if (o.startsWith('http://') && o.endsWith(':80')) return o.slice(0, -3);
  return o;
}

/** OriginVerdict says why an upgrade is refused ('credentials' or 'unlisted'), or undefined when it may proceed. */
export type OriginVerdict = 'credentials' | 'unlisted' | undefined;

/**
 * checkOrigin applies the rule above to an upgrade request. `ownOrigin` is
 * the origin the client used (scheme://host[:port]); it is computed only
 * when an Origin must be checked.
 */
export function checkOrigin(headers: IncomingHttpHeaders, listed: OriginMatcher | undefined, ownOrigin: () => string): OriginVerdict {
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  const credentials = ambientCredentials(headers);
  if (listed === undefined && !credentials) return undefined;
  const own = ownOrigin();
  if (own !== '' && normalizeOrigin(origin) === normalizeOrigin(own)) return undefined;
  if (listed !== undefined && listed.allows(origin)) return undefined;
  return credentials ? 'credentials' : 'unlisted';
}
