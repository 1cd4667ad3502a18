/**
 * A route's match conditions compiled once at load into the cheapest form to
 * test per request: a method set, a host test, and small arrays of name/value
 * pairs. Query and cookies are parsed lazily, only when a candidate route asks.
 */

/** MatchSpec is the `match` block of a route as written in a route file. */
export interface MatchSpec {
  path: string;
  methods?: string[];
  host?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  cookies?: Record<string, string>;
}

/** RequestView is what matching may read of a request. */
export interface RequestView {
  method: string;
  /** host is the Host header, lower-cased, without port. */
  host: string;
  headers: Record<string, string | string[] | undefined>;
  /** rawQuery is the query string without `?` ('' when absent). */
  rawQuery: string;
  /** memo caches lazily parsed query and cookies for this request. */
  memo: { query?: URLSearchParams; cookies?: Map<string, string> };
}

/** CompiledMatch is a route's conditions, ready to test. */
export interface CompiledMatch {
  /** prefix is the literal path: `/api/users` for `/api/users/*`, `/` for `/*`. */
  prefix: string;
  /** exact is true for a path without the trailing `/*`. */
  exact: boolean;
  /** segments is the prefix split into segments ([] for `/`). */
  segments: string[];
  methods: Set<string> | undefined;
  host: { exact?: string; suffix?: string } | undefined;
  headers: Array<[string, string]>;
  query: Array<[string, string]>;
  cookies: Array<[string, string]>;
  /** conditions counts the conditions besides the path. */
  conditions: number;
  /** rank orders routes on the same path: more conditions first; with as many, an exact host beats a wildcard host. */
  rank: number;
}

/** compileMatch validates a path pattern and compiles the conditions; throws a message on a bad pattern. */
export function compileMatch(spec: MatchSpec): CompiledMatch {
  let { path } = spec;
  let exact = true;
  if (path === '/*') {
    path = '/';
    exact = false;
  } else if (path.endsWith('/*')) {
    path = path.slice(0, -2);
    exact = false;
  }
  if (path.includes('*')) throw new Error(`"*" is only allowed as a trailing "/*" in path "${spec.path}"`);
  if (path.length > 1 && path.endsWith('/')) throw new Error(`path "${spec.path}" must not end with "/" (use "${path.slice(0, -1)}/*" or "${path.slice(0, -1)}")`);
  // `;` too: requests with path parameters are refused (see normalize-path.ts), so such a route could never match.
  if (path.includes('//') || /\/\.\.?(\/|$)/.test(path) || /[%\\?#;]/.test(path)) {
    throw new Error(`path "${spec.path}" must be a normalized path (no "//", dot segments, "%", "?", "#", ";" or "\\")`);
  }
  const segments = path === '/' ? [] : path.slice(1).split('/');
  const methods = spec.methods ? new Set(spec.methods.map((m) => m.toUpperCase())) : undefined;
  let host: CompiledMatch['host'];
  if (spec.host !== undefined) {
    const h = spec.host.toLowerCase();
    if (h.startsWith('*.')) host = { suffix: h.slice(1) };
    else if (h.includes('*')) throw new Error(`host "${spec.host}" may only use "*." as a leading wildcard`);
    else host = { exact: h };
  }
  const pairs = (m?: Record<string, string>, lower = false): Array<[string, string]> =>
    Object.entries(m ?? {}).map(([k, v]) => [lower ? k.toLowerCase() : k, v]);
  const headers = pairs(spec.headers, true);
  const query = pairs(spec.query);
  const cookies = pairs(spec.cookies);
  const conditions = (methods ? 1 : 0) + (host ? 1 : 0) + headers.length + query.length + cookies.length;
  const rank = conditions * 2 + (host?.exact !== undefined ? 1 : 0);
  return { prefix: path, exact, segments, methods, host, headers, query, cookies, conditions, rank };
}

/** parseCookies parses a Cookie header into a map (first value of a name wins). */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (header === undefined) return map;
  const text = Array.isArray(header) ? header.join('; ') : header;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!name || map.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    map.set(name, value);
  }
  return map;
}

/** conditionsHold tests every non-path condition of a compiled match. */
export function conditionsHold(m: CompiledMatch, req: RequestView): boolean {
  if (m.methods !== undefined && !m.methods.has(req.method)) return false;
  if (m.host !== undefined) {
    if (m.host.exact !== undefined) {
      if (req.host !== m.host.exact) return false;
    } else if (!(req.host.length > m.host.suffix!.length && req.host.endsWith(m.host.suffix!))) return false;
  }
  for (let i = 0; i < m.headers.length; i++) {
    const [k, v] = m.headers[i]!;
    const got = req.headers[k];
    if (Array.isArray(got) ? !got.includes(v) : got !== v) return false;
  }
  if (m.query.length > 0) {
    const q = (req.memo.query ??= new URLSearchParams(req.rawQuery));
    for (const [k, v] of m.query) if (q.get(k) !== v) return false;
  }
  if (m.cookies.length > 0) {
    const c = (req.memo.cookies ??= parseCookies(req.headers.cookie));
    for (const [k, v] of m.cookies) if (c.get(k) !== v) return false;
  }
  return true;
}

/**
 * disjoint tells whether two routes with the same path can never match the
 * same request (different methods, literal hosts, or a header/query/cookie
 * required with different values). Routes that are not disjoint and have the
 * same specificity are ambiguous.
 */
export function disjoint(a: CompiledMatch, b: CompiledMatch): boolean {
  if (a.methods && b.methods && ![...a.methods].some((m) => b.methods!.has(m))) return true;
  if (a.host?.exact !== undefined && b.host?.exact !== undefined && a.host.exact !== b.host.exact) return true;
  const clash = (x: Array<[string, string]>, y: Array<[string, string]>) => x.some(([k, v]) => y.some(([k2, v2]) => k === k2 && v !== v2));
  return clash(a.headers, b.headers) || clash(a.query, b.query) || clash(a.cookies, b.cookies);
}
