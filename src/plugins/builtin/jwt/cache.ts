/**
 * VerifiedTokens remembers recently verified tokens so a client reusing its
 * token skips the signature check (the costliest step of the plugin). Only
 * tokens that passed verification are stored, keyed by the raw token text
 * (the signature covers every byte, so equal text means an equal token). An
 * entry lives until the token would stop verifying (`exp` plus the clock
 * tolerance, exactly as jsonwebtoken decides) but at most TTL_MS, so a key
 * removed from a JWKS stops being honoured within that time. Bounded:
 * the oldest entry goes first.
 */
import type { Claims } from './claims.js';

/** MAX_ENTRIES bounds the memory one plugin instance spends (tokens are at most maxTokenLength each). */
export const MAX_ENTRIES = 1000;
/** TTL_MS is the longest a verified token is trusted without re-verifying its signature. */
export const TTL_MS = 60_000;

interface Entry {
  readonly claims: Claims;
  /** from and until bound the clock times (ms) at which the entry may be used. */
  readonly from: number;
  readonly until: number;
}

export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  /** @param toleranceS is the verifier's clockTolerance, in seconds. */
  constructor(private readonly toleranceS: number) {}

  /** get returns the claims of a token verified earlier and still valid at `now`, else undefined. */
  get(token: string, now: number): Claims | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    // A clock that went back (injected clocks) could put the token before its nbf again: verify afresh.
    if (now >= e.until || now < e.from) {
      this.entries.delete(token);
      return undefined;
    }
    return e.claims;
  }

  /** set stores a token that just verified at `now`; its claims are frozen, as every later request shares them. */
  set(token: string, claims: Claims, now: number): void {
    let until = now + TTL_MS;
    const exp = claims.exp;
    // jsonwebtoken refuses once floor(now / 1000) >= exp + clockTolerance.
    if (typeof exp === 'number') until = Math.min(until, (exp + this.toleranceS) * 1000);
    if (until <= now) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    Object.freeze(claims);
    this.entries.set(token, { claims, from: now, until });
  }
}
