/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): they apply to one connection and
 * never cross a proxy in either direction, together with any header a
 * Connection header names. Shared by the proxy and by plugins that must not
 * set or read such headers.
 */

/** HOP_BY_HOP lists headers that apply to one connection only. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** connectionListed returns the header names a Connection header lists, lower-cased. */
export function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text === 'keep-alive' || text === 'close') return undefined;
  const set = new Set<string>();
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name) set.add(name);
  }
  return set;
}

/**
 * withoutHopByHop returns a copy of an upstream response's headers without
 * the hop-by-hop ones and the ones its Connection header names. It runs
 * before the response hooks, so an upstream cannot name a header a plugin
 * adds afterwards (`Connection: strict-transport-security`) and have the
 * gateway drop it. A copy, not `delete` in place: deleting turns the object
 * into a slow dictionary for every later read.
 */
export function withoutHopByHop(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  const listed = connectionListed(headers.connection);
  const out: Record<string, string | string[] | undefined> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (listed !== undefined && listed.has(name))) continue;
    out[name] = headers[name];
  }
  return out;
}
