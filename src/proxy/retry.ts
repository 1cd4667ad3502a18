/**
 * The retry decision: whether an attempt that ended badly is tried again,
 * for a retryable status (route `retry.on`) and for a transport failure
 * alike. One rule, so the two cannot drift apart:
 *
 * - within the route's attempt count (a failure that sent nothing may
 *   always be retried once; a reset before any response, once);
 * - only with a body that can be sent again (none, or buffered);
 * - somewhere else: another eligible target (a reset before any response
 *   may go to the same one, on a fresh connection);
 * - within the upstream's retry budget, unless nothing reached the upstream
 *   (that adds no load to the fleet).
 *
 * Timeouts are never retried: a slow upstream must not receive the same work
 * twice.
 */
import type { Target } from '../upstream/target.js';
import type { Exchange } from './exchange.js';
import type { Failure } from './upstream-failure.js';

/** IDEMPOTENT lists methods that may be retried after the upstream answered (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** idempotent tells whether a method may be repeated automatically (RFC 9110 §9.2.2). */
export function idempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** retryOnStatus decides whether a response with `status` is dropped and the request tried on another target. */
export function retryOnStatus(ex: Exchange, failed: Target, status: number): boolean {
  const retry = ex.route.retry;
  return retry.on.has(status) && IDEMPOTENT.has(ex.method) && mayRetry(ex, failed, retry.attempts, false, false);
}

/**
 * retryOnFailure decides whether a failed attempt is tried again: when
 * nothing reached the upstream (any method), or when the connection reset
 * before any response on an idempotent request. RFC 9110 §9.2.2 lets a
 * client repeat those automatically, and it is what keeps a killed target
 * invisible to clients.
 */
export function retryOnFailure(ex: Exchange, failed: Target, failure: Failure, answered: boolean): boolean {
  // A reset before any response is most often a pooled connection the
  // upstream had just closed (the keep-alive race): that one is repeated
  // even in a one-target pool, on a fresh connection (nginx does the same
  // for cached connections).
  const resetBeforeResponse = failure.code === 'SY_ERR_UPSTREAM_RESET' && !answered && IDEMPOTENT.has(ex.method);
  const limit = failure.notSent ? Math.max(1, ex.route.retry.attempts) : resetBeforeResponse ? 1 : 0;
  return mayRetry(ex, failed, limit, resetBeforeResponse, failure.notSent);
}

/**
 * mayRetry is the one rule both decisions end in. `sameTarget` allows a retry
 * with nowhere else to go; `free` skips the retry budget. The budget is asked
 * last: acquiring spends it.
 */
function mayRetry(ex: Exchange, failed: Target, limit: number, sameTarget: boolean, free: boolean): boolean {
  const upstream = ex.pool;
  return ex.attempts <= limit && replayable(ex) && (sameTarget || otherTarget(upstream.eligible, failed)) && (free || upstream.retryBudget.tryAcquire());
}

/**
 * otherTarget tells whether `eligible` holds a target other than `failed`:
 * whether a retry has somewhere else to go. It holds whether or not the
 * failed attempt's outcome has already ejected `failed` (then the set is
 * smaller by one, and counting its size would miss the healthy rest: the
 * attempt has told passive health before this is asked, 13.5). Runs only on
 * failures; pools are small.
 */
function otherTarget(eligible: readonly Target[], failed: Target): boolean {
  for (let i = 0; i < eligible.length; i++) if (eligible[i]!.id !== failed.id) return true;
  return false;
}

/** replayable tells whether the request body can be sent again (none, or buffered). */
function replayable(ex: Exchange): boolean {
  return ex.body === null || Buffer.isBuffer(ex.body);
}
