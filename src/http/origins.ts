/**
 * Allowed CORS origins, compiled once: exact origins go into a Set, patterns
 * (`https://*.example.com`, `http://localhost:*`) into one anchored regular
 * expression. A `*` may stand only for whole leading host labels or for the
 * port, so a pattern can never be widened into "any origin" by accident, and
 * the `null` origin (sandboxed frames, file: pages, redirects: anyone can
 * send it) is never allowed.
 */

/** OriginMatcher tells whether an Origin header value is allowed. */
export interface OriginMatcher {
  /** any is true for `*`: every origin is allowed (answered with a literal `*`, never reflected). */
  readonly any: boolean;
  allows(origin: string): boolean;
}

const SCHEME = '[a-z][a-z0-9+.-]*';
const HOST = '(?:[a-z0-9-]+(?:\\.[a-z0-9-]+)*|\\[[0-9a-f:.]+\\])';
/** EXACT is a serialized origin: scheme, host, optional port, nothing else. */
const EXACT = new RegExp(`^${SCHEME}://${HOST}(?::\\d{1,5})?$`);
/** PATTERN is an origin with `*.` before the host and/or `:*` as the port. */
const PATTERN = new RegExp(`^(${SCHEME})://(\\*\\.)?(${HOST})(?::(\\d{1,5}|\\*))?$`);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** compileOrigins compiles the `origins` option; throws naming every entry that is not a valid origin or pattern. */
export function compileOrigins(origins: '*' | readonly string[]): OriginMatcher {
  if (origins === '*' || origins.includes('*')) return { any: true, allows: () => true };
  const exact = new Set<string>();
  const patterns: string[] = [];
  const bad: string[] = [];
  for (const raw of origins) {
    const o = raw.trim().toLowerCase().replace(/\/$/, '');
    if (o === 'null') {
      bad.push('"null" cannot be allowed: sandboxed frames, local files and redirects all send it, so allowing it allows anyone');
      continue;
    }
    if (EXACT.test(o)) {
      exact.add(o);
      continue;
    }
    const m = PATTERN.exec(o);
    if (!m) {
      bad.push(`"${raw}" is not an origin (scheme://host[:port]) or a pattern such as https://*.example.com or http://localhost:*`);
      continue;
    }
    const [, scheme, sub, host, port] = m;
    patterns.push(
      `${escape(scheme!)}://${sub ? '[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.' : ''}${escape(host!)}${port === '*' ? '(?::\\d{1,5})?' : port ? `:${port}` : ''}`,
    );
  }
  if (bad.length > 0) throw new Error(`origins: ${bad.join('; ')}`);
  const re = patterns.length > 0 ? new RegExp(`^(?:${patterns.join('|')})$`) : undefined;
  return {
    any: false,
    allows(origin) {
      const o = origin.toLowerCase();
      return exact.has(o) || (re !== undefined && re.test(o));
    },
  };
}
