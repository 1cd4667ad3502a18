/**
 * Request-path normalization, done once per request before matching. The path
 * that routing (and so every auth decision) sees is exactly the path sent
 * upstream, so the two can never disagree. Rules follow Envoy's
 * `normalize_path` + `merge_slashes` with escaped slashes rejected:
 * - only origin-form targets (`/path?query`); absolute-form and `*` are refused;
 * - percent-encoded unreserved characters are decoded (`%61pi` → `api`),
 *   other escapes are upper-cased; `%2F`, `%5C` (escaped slashes), `%3B` and `%00` are refused,
 *   because upstreams disagree on whether they separate segments;
 * - backslashes, control characters and bytes outside printable ASCII are refused;
 * - `//` runs are merged; `.` and `..` segments are resolved (never above `/`);
 * - `;` (path parameters) is refused anywhere in the path: servlet containers,
 *   Spring and others drop `;params` from a segment before routing, so
 *   `/admin;x/secret` would be `/admin/secret` upstream while the gateway
 *   matched a different route (Spring's StrictHttpFirewall refuses it too);
 * - `#` is refused: a fragment is never part of a request target, and
 *   frameworks that strip it would route `/account#x` as `/account`.
 */

/** PathResult is the normalized path or the reason it was refused. */
export type PathResult = { ok: true; path: string } | { ok: false; reason: string };

// Fast path: a path of plain characters with no escape, dot-segment or empty segment needs no work.
const NEEDS_WORK = /%|\/\.|\/\/|;|#|[^\x21-\x7e]|\\/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/** normalizePath normalizes the path part of a request target (no query). */
export function normalizePath(raw: string): PathResult {
  if (raw.charCodeAt(0) !== 47 /* / */) return { ok: false, reason: 'request target must start with /' };
  if (!NEEDS_WORK.test(raw)) return { ok: true, path: raw };
  // Decode unreserved escapes; refuse dangerous ones.
  let decoded = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return { ok: false, reason: 'control or non-ASCII character in path' };
    if (c === 92 /* \ */) return { ok: false, reason: 'backslash in path' };
    if (c === 59 /* ; */) return { ok: false, reason: 'path parameter (;) in path' };
    if (c === 35 /* # */) return { ok: false, reason: 'fragment (#) in request target' };
    if (c === 37 /* % */) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return { ok: false, reason: 'malformed percent-encoding in path' };
      const code = Number.parseInt(hex, 16);
      if (code === 0x2f || code === 0x5c) return { ok: false, reason: 'encoded slash or backslash in path' };
      if (code === 0x3b) return { ok: false, reason: 'path parameter (;) in path' };
      if (code < 0x20 || code === 0x7f) return { ok: false, reason: 'encoded control character in path' };
      const ch = String.fromCharCode(code);
      decoded += UNRESERVED.test(ch) ? ch : '%' + hex.toUpperCase();
      i += 2;
      continue;
    }
    decoded += raw[i];
  }
  // Resolve segments.
  const segments = decoded.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '' && !last) continue; // merge slashes
    if (seg === '.') {
      if (last) out.push('');
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  return { ok: true, path: '/' + out.join('/') };
}
