/**
 * Slow start: a target that (re)joins the rotation gets a share of traffic
 * that ramps up linearly over a window, so a cold cache or JIT is not hit by
 * its full share at once. Balancers multiply a target's weight by this factor.
 */
import { parseDuration } from '../config/duration.js';
import type { UpstreamDoc } from '../config/schema.js';

/** SLOW_START_FLOOR is the factor at the start of the window: some traffic, so the target warms up at all. */
export const SLOW_START_FLOOR = 0.1;

/**
 * slowStartFactor is the share (SLOW_START_FLOOR..1) of a target that joined
 * at epoch-ms `sinceMs`, at `now`, for a `windowMs` ramp; 1 when the window is
 * 0 (off) or has elapsed.
 */
export function slowStartFactor(sinceMs: number, now: number, windowMs: number): number {
  if (!(windowMs > 0)) return 1;
  const elapsed = now - sinceMs;
  if (elapsed >= windowMs) return 1;
  if (elapsed <= 0) return SLOW_START_FLOOR;
  return SLOW_START_FLOOR + ((1 - SLOW_START_FLOOR) * elapsed) / windowMs;
}

/** slowStartWindowFromDoc converts an upstream's `slowStart` duration to milliseconds (default 0, off). */
export function slowStartWindowFromDoc(slowStart: UpstreamDoc['slowStart'] | undefined): number {
  return parseDuration(slowStart ?? 0);
}
