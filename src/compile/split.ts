/**
 * Compiling a route's `split` block (src/config/schema-split.ts) into what
 * the request path decides with (src/proxy/split.ts): the cohort key reader,
 * the bucket table, the override conditions and the legs' pools. Also the
 * checks no schema can make, each reported at its file:line:
 * - every leg names a known upstream ("did you mean"), of HTTP targets;
 * - a leg has a weight or a `when`, not both; weights sum to at most 100;
 * - overrides are conditions like `match` (compiled by the same code);
 * - cookies: the cohort cookie (default `sy-cohort`, or `by: cookie:NAME`)
 *   may not be a sticky cookie of a pool the split serves from. Sticky
 *   cookies name a target and are re-issued when the target changes, so as a
 *   cohort key they would move clients between legs, and one name cannot
 *   carry both. Otherwise sticky sessions work within each leg as usual: the
 *   split picks the pool, then the pool's sticky cookie its target (a sticky
 *   cookie of another pool never verifies, so it cannot pull a client across).
 */
import type { UpstreamDoc } from '../config/schema.js';
import type { SplitDoc } from '../config/schema-split.js';
import { errorAt, type ConfigError, type DocPath, type DocSource } from '../config/errors.js';
import { didYouMean } from '../config/suggest.js';
import { compileMatch } from '../routing/route-match.js';
import type { Upstream } from '../upstream/upstream.js';
import { BUCKETS, cohortKey, type CohortKey, type CompiledSplit, type SplitOverride, type SplitShare } from '../proxy/split-plan.js';

/** COHORT_MAX_AGE_S is the default cohort cookie's lifetime: a year, so a client stays in its cohort across visits. */
export const COHORT_MAX_AGE_S = 365 * 24 * 3600;

/** SplitInput is a route's split with what it is checked against. */
export interface SplitInput {
  readonly doc: SplitDoc;
  readonly routeId: string;
  readonly primary: Upstream;
  /** source and at say where the split block is (file:line of each error). */
  readonly source: DocSource;
  readonly at: DocPath;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  /** docs are the upstream docs by name (the kind of their targets). */
  readonly docs: ReadonlyMap<string, UpstreamDoc>;
}

/** compileSplit compiles a split, or pushes its errors and returns undefined. */
export function compileSplit(input: SplitInput, errors: ConfigError[]): CompiledSplit | undefined {
  const { doc, source, at, upstreams, primary } = input;
  const before = errors.length;
  const fail = (path: DocPath, message: string, suggestion?: string) => errors.push(errorAt(source, [...at, ...path], message, { suggestion }));

  let key: CohortKey | undefined;
  try {
    key = cohortKey(doc.by, doc.cookie);
  } catch (err) {
    const kind = (doc.by ?? '').split(':')[0]!;
    fail(['by'], (err as Error).message, didYouMean(kind, ['claim', 'cookie', 'header', 'session', 'ip']));
  }

  const overrides: SplitOverride[] = [];
  const shares: SplitShare[] = [];
  let used = 0;
  doc.to.forEach((leg, j) => {
    const u = upstreams.get(leg.upstream);
    if (u === undefined) {
      const names = [...upstreams.keys()];
      fail(['to', j, 'upstream'], `unknown upstream "${leg.upstream}"`, didYouMean(leg.upstream, names));
      return;
    }
    const stream = streamScheme(input.docs.get(leg.upstream));
    if (stream !== undefined) fail(['to', j, 'upstream'], `upstream "${leg.upstream}" has ${stream}// targets: a split leg needs http:// or https:// targets`);
    if ((leg.weight === undefined) === (leg.when === undefined)) {
      fail(['to', j], leg.weight === undefined ? 'a leg needs weight (a share of the cohorts) or when (an override)' : 'a leg has weight or when, not both (list the upstream twice for both)');
      return;
    }
    if (leg.when !== undefined) {
      try {
        overrides.push({ upstream: u, when: compileMatch({ path: '/*', ...leg.when }), index: j });
      } catch (err) {
        fail(['to', j, 'when'], (err as Error).message);
      }
      return;
    }
    const w = leg.weight!;
    shares.push({ upstream: u, weight: w, from: Math.min(used, BUCKETS), to: Math.min(used + w, BUCKETS), index: j });
    used += w;
  });
  if (used > BUCKETS) fail(['to'], `the weights sum to ${used}: at most 100 (they are percents of the cohorts; the primary takes what is left)`);

  // The cohort cookie may not be a sticky cookie of a pool this split serves from (see the top of this file).
  const pools = [primary, ...shares.map((s) => s.upstream), ...overrides.map((o) => o.upstream)];
  const cohortCookie = doc.by === undefined ? doc.cookie : doc.by.startsWith('cookie:') ? doc.by.slice(7) : undefined;
  const clash = cohortCookie === undefined ? undefined : pools.find((u) => u.sticky?.cookie === cohortCookie);
  if (clash !== undefined) {
    fail([doc.by === undefined ? 'cookie' : 'by'], `cookie "${cohortCookie}" is the sticky cookie of upstream "${clash.name}": a cohort needs a cookie of its own (sticky cookies change with the target)`);
  }
  if (errors.length > before || key === undefined) return undefined;

  const owner: Upstream[] = new Array<Upstream>(BUCKETS).fill(primary);
  for (const s of shares) for (let b = s.from; b < s.to; b++) owner[b] = s.upstream;
  return {
    by: doc.by ?? '',
    key,
    salt: doc.salt ?? input.routeId,
    cookie: doc.by === undefined ? { name: doc.cookie, attributes: `; Max-Age=${COHORT_MAX_AGE_S}; Path=/; HttpOnly; SameSite=Lax` } : undefined,
    primary,
    overrides,
    shares,
    owner,
    fallback: String(doc.fallback) === '503' ? '503' : 'primary',
    legs: [...new Set(pools)],
  };
}

/** streamScheme returns `tcp:` or `udp:` when an upstream doc has such targets. */
function streamScheme(doc: UpstreamDoc | undefined): string | undefined {
  for (const t of doc?.targets ?? []) {
    const m = /^(tcp|udp):/i.exec(t.url);
    if (m !== null) return m[0].toLowerCase();
  }
  return undefined;
}
