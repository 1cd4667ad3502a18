/**
 * Request header names a server behind the gateway could read as another
 * header. CGI-style servers (PHP, WSGI, Rack, Apache's mod_cgi) turn a header
 * name into a variable by upper-casing it and mapping every character that
 * is not a letter or digit to `_`: `X.User.Id`, `X_User_Id` and `X-User-Id`
 * all become `HTTP_X_USER_ID`. A client could then smuggle an identity header
 * past a rule that removes only the dashed name.
 *
 * So, as nginx does by default (`ignore_invalid_headers on`), a request
 * header whose name holds anything but letters, digits and `-` is dropped
 * before the request goes upstream (`limits.invalidHeaders`: `drop`, the
 * default; `reject` answers 400; `allow` forwards it), and names are compared
 * with owned and identity headers in their folded spelling (see foldHeaderName).
 *
 * Hot path: no regex and no allocation for the names clients normally send:
 * a name seen before is one Set lookup, a new one a table lookup per character.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** InvalidHeaders is `limits.invalidHeaders`: what the gateway does with a request header name outside letters, digits and `-`. */
export type InvalidHeaders = 'drop' | 'reject' | 'allow';

/** PLAIN[c] is 1 for the character codes of a plain header name: ASCII letters, digits and `-`. */
const PLAIN = new Uint8Array(128);
for (let c = 48; c <= 57; c++) PLAIN[c] = 1; // 0-9
for (let c = 65; c <= 90; c++) PLAIN[c] = 1; // A-Z
for (let c = 97; c <= 122; c++) PLAIN[c] = 1; // a-z
PLAIN[45] = 1; // -

/**
 * KNOWN_PLAIN remembers plain names already scanned. Clients send the same
 * few dozen names over and over, and the name's hash is already computed by
 * the Set lookups the forwarding loop makes anyway, so a known name costs one
 * hash lookup (measured ~5 ns, against ~17 ns for the scan of a typical name
 * and ~7 ns for the `indexOf('_')` this replaces). Bounded in entries and
 * name length, so a client inventing names cannot make it grow: past the
 * bound, names are just scanned.
 */
const KNOWN_PLAIN = new Set<string>();
const KNOWN_MAX = 256;
const KNOWN_NAME_MAX = 48;

/** plainHeaderName tells whether a header name is made of letters, digits and `-` only (and is not empty). */
export function plainHeaderName(name: string): boolean {
  if (KNOWN_PLAIN.has(name)) return true;
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || PLAIN[c] === 0) return false;
  }
  if (n <= KNOWN_NAME_MAX && KNOWN_PLAIN.size < KNOWN_MAX) KNOWN_PLAIN.add(name);
  return true;
}

/**
 * foldHeaderName is the spelling a CGI-style server reads a header name as,
 * written back with dashes: lower case, and every character that is not a
 * letter or digit (`_`, `.`, and the other token characters) as `-`. A plain
 * lower-case name is returned as is (the same string, nothing allocated).
 */
export function foldHeaderName(name: string): string {
  const n = name.length;
  let i = 0;
  for (; i < n; i++) {
    const c = name.charCodeAt(i);
    // A plain lower-case character (A-Z also needs folding).
    if (c > 127 || PLAIN[c] === 0 || (c >= 65 && c <= 90)) break;
  }
  if (i === n) return name;
  let out = name.slice(0, i);
  for (; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) out += String.fromCharCode(c + 32);
    else if (c <= 127 && PLAIN[c] === 1) out += name[i];
    else out += '-';
  }
  return out;
}

/**
 * invalidHeaderName returns the first request header name that is not plain
 * (HTTP/2 pseudo-headers, which start with `:`, are the protocol's own), or
 * undefined. Used by `limits.invalidHeaders: reject` before routing.
 */
export function invalidHeaderName(headers: IncomingHttpHeaders): string | undefined {
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if (!plainHeaderName(name)) return name;
  }
  return undefined;
}
