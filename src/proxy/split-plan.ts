/**
 * The compiled form of a route's canary split (built by src/compile/split.ts,
 * decided per request by split.ts, which says what it means), the cohort hash
 * and the cohort key readers. Here, apart from the decision, because the
 * Runtime holds it: nothing in this file knows the Exchange.
 *
 * The hash is FNV-1a (32-bit, over UTF-16 code units) of `salt \0 key`,
 * finished with murmur3's fmix32 so every input bit reaches the high bits,
 * and the bucket is the high part of hash × 100 / 2^32. It is fixed: changing
 * it would move every cohort.
 */
import type { CompiledMatch } from '../routing/route-match.js';
import type { Upstream } from '../upstream/upstream.js';
import { claimValue } from '../plugins/claims.js';
import { hash32 } from '../balancing/ip-hash.js';

/** BUCKETS is the number of cohort buckets: weights are percentages. */
export const BUCKETS = 100;

/** CohortRequest is what a cohort key may read of a request (the Exchange provides it). */
export interface CohortRequest {
  readonly clientIp: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly locals: Record<string, unknown>;
  /** extraHeaders are the upstream headers plugins set, as a flat list (the session id is one). */
  readonly extraHeaders: string[] | undefined;
  cookie(name: string): string | undefined;
}

/** CohortKey reads the cohort key of a request (undefined: the request has none). */
export type CohortKey = (req: CohortRequest) => string | undefined;

/** SplitOverride is a compiled `{ upstream, when }` leg. */
export interface SplitOverride {
  readonly upstream: Upstream;
  readonly when: CompiledMatch;
  /** index is the leg's position in `to` (admin API, explain). */
  readonly index: number;
}

/** SplitShare is a compiled `{ upstream, weight }` leg: buckets [from, to). */
export interface SplitShare {
  readonly upstream: Upstream;
  readonly weight: number;
  readonly from: number;
  readonly to: number;
  readonly index: number;
}

/** CompiledSplit is a route's split, ready to decide. */
export interface CompiledSplit {
  /** by is the cohort key as written ('' for the default cohort cookie). */
  readonly by: string;
  readonly key: CohortKey;
  readonly salt: string;
  /** cookie is the default cohort cookie: its name and the attributes after the value (undefined when `by` is set). */
  readonly cookie: { readonly name: string; readonly attributes: string } | undefined;
  readonly primary: Upstream;
  readonly overrides: readonly SplitOverride[];
  readonly shares: readonly SplitShare[];
  /** owner maps a bucket to the pool that owns it (the primary for the buckets no weight takes). */
  readonly owner: readonly Upstream[];
  readonly fallback: 'primary' | '503';
  /** legs lists the distinct pools a request may be served by, primary first (admin API, metrics). */
  readonly legs: readonly Upstream[];
}

/** cohortHash hashes a salted key (salt, NUL, key) with the ip-hash balancer's hash: FNV-1a 32, then murmur3's fmix32. */
export function cohortHash(salt: string, key: string): number {
  return hash32(`${salt}\u0000${key}`);
}

/** bucketOf is the cohort bucket (0-99) of a key under a salt. */
export function bucketOf(salt: string, key: string): number {
  return Math.floor((cohortHash(salt, key) * BUCKETS) / 0x100000000);
}

/** SESSION_HEADER is the upstream header the session plugin sets to the session id (its `X-Session-Id`). */
const SESSION_HEADER = 'x-session-id';

/** KEY_KINDS are the forms of `by`, for "did you mean". */
export const KEY_KINDS = ['claim:', 'cookie:', 'header:', 'session', 'ip'] as const;

/**
 * cohortKey compiles `by` into its reader; undefined `by` reads the default
 * cookie. Throws a message for an unknown form.
 */
export function cohortKey(by: string | undefined, cookieName: string): CohortKey {
  if (by === undefined) return (req) => nonEmpty(req.cookie(cookieName));
  if (by === 'ip') return (req) => req.clientIp;
  if (by === 'session') {
    return (req) => {
      const list = req.extraHeaders;
      if (list !== undefined) for (let i = 0; i < list.length; i += 2) if (list[i] === SESSION_HEADER) return list[i + 1];
      return undefined;
    };
  }
  const colon = by.indexOf(':');
  const kind = colon === -1 ? by : by.slice(0, colon + 1);
  const name = colon === -1 ? '' : by.slice(colon + 1);
  if (colon !== -1 && name === '') throw new Error(`"${by}" names no ${kind.slice(0, -1)}: expected ${kind}NAME`);
  switch (kind) {
    case 'claim:':
      return (req) => claimValue(req.locals, name);
    case 'cookie:':
      return (req) => nonEmpty(req.cookie(name));
    case 'header:': {
      const h = name.toLowerCase();
      return (req) => {
        const v = req.headers[h];
        return nonEmpty(Array.isArray(v) ? v[0] : v);
      };
    }
    default:
      throw new Error(`unknown cohort key "${by}": expected claim:NAME, cookie:NAME, header:NAME, session or ip`);
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
