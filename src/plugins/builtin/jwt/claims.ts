/**
 * What the jwt plugin does with a verified token's claims: check the ones
 * that must be present, check the required values, and turn the forwarded
 * ones into header values. Compiled at load into flat arrays. Claims are
 * read as own properties only, so a claim named `constructor` is never
 * "present" by inheritance.
 */
import { UNSAFE_VALUE, checkHeaderNames } from '../internal/http-names.js';
import { foldHeaderName } from '../../../http/index.js';
import type { JwtOptions } from './schema.js';

/** Claims is a verified token's payload. */
export type Claims = Record<string, unknown>;

type Scalar = string | number | boolean;

/** Requirement is one entry of `claims`: the claim must equal (or, when an array, contain) one accepted value. */
interface Requirement {
  readonly claim: string;
  readonly accepted: readonly Scalar[];
}

/** ClaimRules are the compiled claim options. */
export interface ClaimRules {
  readonly required: readonly string[];
  readonly requirements: readonly Requirement[];
  /** forwardClaims[i] is sent upstream as forwardHeaders[i]. */
  readonly forwardClaims: readonly string[];
  readonly forwardHeaders: readonly string[];
}

/** claimOf reads an own claim (undefined when absent). */
export const claimOf = (claims: Claims, name: string): unknown => (Object.hasOwn(claims, name) ? claims[name] : undefined);

/** compileClaimRules checks and flattens the claim options; throws on a header that cannot be forwarded. */
export function compileClaimRules(opts: JwtOptions): ClaimRules {
  const forward = Object.entries(opts.forward);
  checkHeaderNames(
    forward.map(([, h]) => h),
    'request',
    'forward',
  );
  const headers = forward.map(([, h]) => h.toLowerCase());
  // Compared folded: `x_user_id` and `x-user-id` are one header to the servers behind (proxy/header-names.ts).
  const folded = headers.map(foldHeaderName);
  const dup = folded.findIndex((h, i) => folded.indexOf(h) !== i);
  if (dup !== -1) throw new Error(`forward: two claims are sent as the same header "${folded[dup]}"`);
  if (folded.includes('authorization')) throw new Error('forward: a claim cannot replace the Authorization header');
  return {
    required: opts.requiredClaims,
    requirements: Object.entries(opts.claims).map(([claim, v]) => ({ claim, accepted: Array.isArray(v) ? v : [v] })),
    forwardClaims: forward.map(([c]) => c),
    forwardHeaders: headers,
  };
}

/** missingClaim returns the first required claim the token lacks, or undefined. */
export function missingClaim(rules: ClaimRules, claims: Claims): string | undefined {
  for (const name of rules.required) if (claimOf(claims, name) === undefined) return name;
  return undefined;
}

/** meetsRequirements tells whether every `claims` requirement holds. */
export function meetsRequirements(rules: ClaimRules, claims: Claims): boolean {
  for (const r of rules.requirements) {
    const v = claimOf(claims, r.claim);
    if (Array.isArray(v) ? !v.some((x) => r.accepted.includes(x as Scalar)) : !r.accepted.includes(v as Scalar)) return false;
  }
  return true;
}

/**
 * headerValue turns a forwarded claim into a header value: strings without
 * control characters and finite numbers pass; undefined means "absent, send
 * nothing"; null means the claim cannot be forwarded (the token is refused).
 */
export function headerValue(v: unknown): string | undefined | null {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return UNSAFE_VALUE.test(v) ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}
