/**
 * Header names and values in built-in plugin options, checked once at load:
 * a header name is an RFC 9110 token, a configured value never carries the
 * bytes that would split a header (CR, LF, NUL), and headers whose meaning
 * belongs to the connection or to the gateway core cannot be set by a plugin,
 * in any spelling a server reads as theirs (`X_Forwarded_For`).
 */
import { HOP_BY_HOP, foldHeaderName } from '../../../http/index.js';

/** HEADER_NAME matches an RFC 9110 field name (a token). */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** HEADER_NAME_PATTERN is HEADER_NAME as a JSON-Schema pattern. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$";

/** HEADER_VALUE_PATTERN is the JSON-Schema pattern of a configured header value: no CR, LF or NUL (no header splitting). */
export const HEADER_VALUE_PATTERN = '^[^\\r\\n\\x00]*$';

/** UNSAFE_VALUE matches what may never reach a header value taken from a request (control characters except tab). */
export const UNSAFE_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** CORE_REQUEST lists request headers the core sets itself (framing, routing, forwarding, request id). */
const CORE_REQUEST = new Set(['host', 'content-length', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip', 'forwarded']);

/** CORE_RESPONSE lists response headers the core sets itself. */
const CORE_RESPONSE = new Set(['content-length', 'x-request-id']);

/**
 * headerNameProblem says why a header name cannot be set by a plugin on the
 * request sent upstream (`request`) or the response (`response`), or
 * returns undefined when it can.
 */
export function headerNameProblem(name: string, side: 'request' | 'response'): string | undefined {
  if (!HEADER_NAME.test(name)) return `"${name}" is not a valid header name`;
  // Folded: `Transfer_Encoding` or `X.Forwarded.For` reads as the real header to CGI-style servers (proxy/header-names.ts).
  const n = foldHeaderName(name);
  const alias = n === name.toLowerCase() ? '' : ` (servers read it as "${n}")`;
  if (HOP_BY_HOP.has(n)) return `"${name}" is a hop-by-hop header${alias} and never crosses the gateway`;
  if ((side === 'request' ? CORE_REQUEST : CORE_RESPONSE).has(n)) return `"${name}" is set by the gateway itself${alias} and cannot be changed by a plugin`;
  return undefined;
}

/** checkHeaderNames throws one error listing every name in `names` a plugin may not set (`where` names the option). */
export function checkHeaderNames(names: Iterable<string>, side: 'request' | 'response', where: string): void {
  const problems: string[] = [];
  for (const n of names) {
    const p = headerNameProblem(n, side);
    if (p !== undefined) problems.push(p);
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
}
