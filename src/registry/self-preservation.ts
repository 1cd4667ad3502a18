/**
 * Self-preservation, Eureka's way of telling a network partition from a fleet
 * death: when far fewer heartbeats arrive than the registered instances should
 * send, the likelier story is that the registry lost its network, not that
 * most services died at once; evicting them all would empty every pool for
 * nothing. So while renewals over the window fall below `threshold` × the
 * expected count, the evictor stops.
 *
 * Renewals are counted in time buckets (a sixth of the window each) in the
 * store, so with Redis every gateway counts into the same buckets and the rate
 * is the fleet's, wherever heartbeats land. The window read is the last six
 * full buckets plus the current partial one, and the expected count covers the
 * same span: each instance is expected to renew span / renewal times, or, when
 * it registered within the span, once per full interval since it registered
 * (a new instance owes no heartbeat yet).
 */
import type { Instance } from './instance.js';

/** BUCKETS_PER_WINDOW is how finely the window is counted: a sixth, i.e. 10 s buckets for Eureka's one-minute window. */
export const BUCKETS_PER_WINDOW = 6;

/** RenewalWindow is the buckets to sum for `now` and the span of time they cover. */
export interface RenewalWindow {
  readonly buckets: readonly number[];
  readonly spanMs: number;
}

/** bucketMs is the length of one renewal bucket for a window. */
export function bucketMs(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / BUCKETS_PER_WINDOW));
}

/** bucketOf is the bucket a renewal at `now` is counted in. */
export function bucketOf(now: number, windowMs: number): number {
  return Math.floor(now / bucketMs(windowMs));
}

/** renewalWindow lists the buckets of the window ending at `now` (six full ones and the current) and their span. */
export function renewalWindow(now: number, windowMs: number): RenewalWindow {
  const size = bucketMs(windowMs);
  const current = Math.floor(now / size);
  const buckets: number[] = [];
  for (let b = current - BUCKETS_PER_WINDOW; b <= current; b++) buckets.push(b);
  return { buckets, spanMs: BUCKETS_PER_WINDOW * size + (now - current * size) };
}

/** expectedRenewals is how many renewals `instances` owe over a span ending at `now`. */
export function expectedRenewals(instances: Iterable<Pick<Instance, 'registeredAt'>>, now: number, spanMs: number, renewalMs: number): number {
  let expected = 0;
  for (const i of instances) {
    const age = now - i.registeredAt;
    expected += age >= spanMs ? spanMs / renewalMs : Math.floor(Math.max(0, age) / renewalMs);
  }
  return expected;
}

/** SelfPreservationState is the evictor's last reading, as state() and metrics show it. */
export interface SelfPreservationState {
  /** enabled is false when configured off (`selfPreservation: false`). */
  readonly enabled: boolean;
  /** active is true while eviction is suspended. */
  readonly active: boolean;
  /** renewals counted over the window (every gateway's, with Redis). */
  readonly renewals: number;
  /** expected renewals over the same span. */
  readonly expected: number;
  /** threshold is the share of `expected` below which eviction stops. */
  readonly threshold: number;
  /** renewalsPerMinute and expectedPerMinute are the same figures scaled to a minute, as Eureka reports them. */
  readonly renewalsPerMinute: number;
  readonly expectedPerMinute: number;
  /** at is the epoch ms of the reading (0 = never read). */
  readonly at: number;
}

/** assess decides whether self-preservation is active: renewals below threshold × expected, with something expected at all. */
export function assess(renewals: number, expected: number, spanMs: number, threshold: number, enabled: boolean, at: number): SelfPreservationState {
  const perMinute = (n: number) => (spanMs > 0 ? Math.round((n * 60_000) / spanMs) : 0);
  return {
    enabled,
    active: enabled && expected > 0 && renewals < threshold * expected,
    renewals,
    expected: Math.round(expected * 100) / 100,
    threshold,
    renewalsPerMinute: perMinute(renewals),
    expectedPerMinute: perMinute(expected),
    at,
  };
}

/**
 * evictionLimit is how many expired leases one round may evict: with
 * self-preservation on, Eureka's cap of registry size minus threshold × size
 * (at least one), so a partition that began between two readings cannot
 * empty the registry in one round; without it, all of them.
 */
export function evictionLimit(registrySize: number, threshold: number | undefined): number {
  if (threshold === undefined) return Number.POSITIVE_INFINITY;
  return Math.max(1, registrySize - Math.floor(registrySize * threshold));
}
