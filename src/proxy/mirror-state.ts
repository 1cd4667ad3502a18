/**
 * A route's compiled mirror and its counters (what mirror.ts runs and the
 * metrics, /routes and the dashboard read). Apart from mirror.ts so the
 * runtime types can name it without importing the request path.
 */
import type { Upstream } from '../upstream/upstream.js';

/** MIRROR_BUCKETS are the upper bounds (seconds) of the shadow latency histogram, as the request histograms'. */
export const MIRROR_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** MirrorStats counts what a route's mirror did; plain numbers, read at scrape time. */
export interface MirrorStats {
  /** sent counts copies dispatched to the shadow. */
  sent: number;
  /** dropped counts copies refused by the concurrency cap (limits.mirrorConcurrency). */
  dropped: number;
  /** overLimit counts sampled requests not copied because their body was over bodyLimit or streamed. */
  overLimit: number;
  /** unavailable counts sampled requests not copied because the shadow pool had no eligible target. */
  unavailable: number;
  /** ok counts shadow answers below 500; shadow5xx those of 500 and above. */
  ok: number;
  shadow5xx: number;
  /** errors counts copies that got no whole answer (refused, reset, timed out); timeouts is the part cut by `timeout`. */
  errors: number;
  timeouts: number;
  /** latency is a histogram over MIRROR_BUCKETS (non-cumulative counts), in seconds. */
  readonly latency: { readonly counts: Float64Array; sum: number; count: number };
}

/** newMirrorStats returns zeroed counters. */
export function newMirrorStats(): MirrorStats {
  return { sent: 0, dropped: 0, overLimit: 0, unavailable: 0, ok: 0, shadow5xx: 0, errors: 0, timeouts: 0, latency: { counts: new Float64Array(MIRROR_BUCKETS.length), sum: 0, count: 0 } };
}

/**
 * MirrorGate counts the copies in flight across all routes of a gateway;
 * compile.ts carries one gate over reloads (copies of the old configuration
 * still count). The cap itself is per configuration (CompiledMirror.max), so
 * a reload that fails changes nothing.
 */
export class MirrorGate {
  /** inflight counts copies undici has not finished with. */
  inflight = 0;
}

/** CompiledMirror is a route's `mirror` block ready to serve (src/compile/mirror.ts builds it). */
export interface CompiledMirror {
  /** upstream is the shadow pool. */
  readonly upstream: Upstream;
  /** percent is the share of matching requests copied, 0-100. */
  readonly percent: number;
  /** bodyLimit is the largest body copied, in bytes (never more than the route's retry.bufferBody can hold). */
  readonly bodyLimit: number;
  readonly methods: ReadonlySet<string>;
  /** timeoutMs bounds a copy from dispatch to the end of its response. */
  readonly timeoutMs: number;
  readonly gate: MirrorGate;
  /** max is limits.mirrorConcurrency: the most copies the gate lets through at once (0 = none). */
  readonly max: number;
  readonly stats: MirrorStats;
}
