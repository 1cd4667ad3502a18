/**
 * The canary split of a route, per request (compiled once by
 * src/compile/split.ts). Runs after the plugin chain (claims and the session
 * exist then) and before the first target is chosen; it sets the pool the
 * exchange is served by (`ex.pool`), which every later step reads: target
 * choice, sticky cookies, retries and their budget, passive health, the Host
 * sent upstream, Location rewriting, WebSocket dialing and the metrics.
 *
 * The decision, in order:
 * 1. overrides (`when`), in the order listed: the first whose conditions hold wins;
 * 2. the cohort: the key (`by`) hashed with the salt (the route id unless
 *    set) to a bucket 0-99; weighted legs own buckets from 0 in the order
 *    listed (a weight of 10 owns 0-9), the primary owns the rest. So raising a
 *    weight only adds cohorts to its leg, and lowering it moves only the
 *    cohorts above the new line. With several weighted legs, a change to an
 *    earlier leg shifts the ranges of the later ones.
 * 3. no key (no such claim, header or cookie): the primary (counted).
 * A leg other than the primary whose pool has no eligible target (or is in
 * panic mode) falls back to the primary, or answers 503 (`fallback: 503`).
 *
 * The compiled split, the hash and the key readers are in split-plan.ts.
 */
import { randomUUID } from 'node:crypto';
import { hostOf } from '../http/host.js';
import { conditionsHold, type RequestView } from '../routing/route-match.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Exchange } from './exchange.js';
import type { ProxyHooks } from './hooks.js';
import { bucketOf, type CompiledSplit, type SplitOverride } from './split-plan.js';
import { answerNoTarget } from './upstream-failure.js';

/** unavailable tells whether a pool cannot take a cohort now: no eligible target, or fewer healthy ones than its panic threshold. */
export function unavailable(u: Upstream): boolean {
  return u.eligible.length === 0 || u.panic;
}

/** requestView is what override conditions read of an exchange (built only for a split with overrides). */
function requestView(ex: Exchange): RequestView {
  return { method: ex.method, host: hostOf(ex.headers.host), headers: ex.headers, rawQuery: ex.rawQuery, memo: {} };
}

/** chooseOverride returns the first override whose conditions hold, or undefined. */
export function chooseOverride(split: CompiledSplit, view: RequestView): SplitOverride | undefined {
  const list = split.overrides;
  for (let i = 0; i < list.length; i++) if (conditionsHold(list[i]!.when, view)) return list[i];
  return undefined;
}

/**
 * chooseLeg decides the pool of a split route's exchange and sets it on the
 * exchange (`pool`, `upstream`, `split`), with the cohort cookie to set when
 * the default cookie was missing. Returns false when it answered the request
 * (`fallback: 503`).
 */
export function chooseLeg(ex: Exchange, split: CompiledSplit, hooks: ProxyHooks): boolean {
  let leg: Upstream | undefined;
  if (split.overrides.length > 0) leg = chooseOverride(split, requestView(ex))?.upstream;
  if (leg === undefined) {
    let key = split.key(ex);
    const cookie = split.cookie;
    if (key === undefined && cookie !== undefined) {
      // A new client: its cohort starts with this request, and the cookie keeps it there.
      key = randomUUID();
      ex.cohortCookie = `${cookie.name}=${key}${cookie.attributes}${ex.secure ? '; Secure' : ''}`;
    }
    if (key === undefined) {
      leg = split.primary;
      hooks.onSplitUnkeyed?.(ex);
    } else leg = split.owner[bucketOf(split.salt, key)]!;
  }
  if (leg !== split.primary && unavailable(leg)) {
    hooks.onSplitFallback?.(ex, leg, split.fallback);
    if (split.fallback === '503') {
      servedBy(ex, leg);
      answerNoTarget(ex, hooks);
      return false;
    }
    leg = split.primary;
  }
  servedBy(ex, leg);
  return true;
}

function servedBy(ex: Exchange, leg: Upstream): void {
  ex.pool = leg;
  ex.upstream = leg.name;
  ex.split = leg.name;
}

