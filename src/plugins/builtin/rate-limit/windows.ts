/**
 * The counting arithmetic of the rate limiter, apart from any store: given
 * the counters, is the request allowed, how much is left, and when may the
 * client come back. Times are epoch milliseconds; windows are aligned to
 * multiples of their length, so every gateway instance agrees on them.
 */

/** Verdict is the outcome for one request. */
export interface Verdict {
  allowed: boolean;
  /** remaining is what is left in the window after this request (never below 0). */
  remaining: number;
  /** resetMs is the time until the quota frees up: the window's end, or when a limited client may retry. */
  resetMs: number;
}

/** windowStart is the start of the window holding `now`. */
export function windowStart(now: number, windowMs: number): number {
  return now - (now % windowMs);
}

/** fixedVerdict judges a request from its window's count (this request included). */
export function fixedVerdict(count: number, max: number, now: number, windowMs: number): Verdict {
  const resetMs = windowStart(now, windowMs) + windowMs - now;
  return { allowed: count <= max, remaining: Math.max(0, max - count), resetMs };
}

/**
 * slidingVerdict judges a request by the weighted estimate of the last
 * `windowMs`: the previous window's count, scaled by how much of it the
 * sliding window still overlaps, plus the current window's count (this
 * request included). When limited, resetMs is when the next request would
 * pass if the client sent nothing in between.
 */
export function slidingVerdict(count: number, previous: number, max: number, now: number, windowMs: number): Verdict {
  const elapsed = now % windowMs;
  const estimate = previous * (1 - elapsed / windowMs) + count;
  const toWindowEnd = windowMs - elapsed;
  if (estimate <= max) return { allowed: true, remaining: Math.max(0, Math.floor(max - estimate)), resetMs: toWindowEnd };
  let wait: number;
  if (count + 1 <= max) {
    // Still in this window: wait until the previous window's weight has decayed enough.
    wait = windowMs * (1 - (max - count - 1) / previous) - elapsed;
  } else {
    // Only in a later window, once this window's own weight has decayed enough.
    wait = toWindowEnd + Math.max(0, windowMs * (1 - (max - 1) / count));
  }
  return { allowed: false, remaining: 0, resetMs: Math.max(0, wait) };
}
