/**
 * The rolling traffic window's shape and arithmetic, shared by the gateway
 * (traffic.ts) and the cluster primary, which adds its workers' windows slot
 * by slot and bucket by bucket before working out the percentiles again:
 * percentiles do not add up, histograms do.
 */

/** LatencyWindow is one row's window: per-slot requests and 5xx (oldest first), latency buckets summed over the window, and the percentiles derived from them. */
export interface LatencyWindow {
  requests: number[];
  errors5xx: number[];
  latency: number[];
  /** p50Ms and p99Ms are interpolated within their bucket; null when the window saw no request. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * quantile estimates the q-quantile (0..1) of a histogram: `counts` has one
 * entry per bound plus one for slower values, which are reported as the last
 * bound (a floor, like Prometheus' histogram_quantile).
 */
export function quantile(counts: readonly number[], bounds: readonly number[], q: number): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && seen + c >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return Math.round((lower + ((upper - lower) * (rank - seen)) / c) * 100) / 100;
    }
    seen += c;
  }
  return bounds[bounds.length - 1]!;
}

/** addWindows sums windows of equal layout (same slots, same buckets) and recomputes the percentiles. */
export function addWindows(windows: readonly LatencyWindow[], bounds: readonly number[]): LatencyWindow {
  const first = windows[0]!;
  const sum = (pick: (w: LatencyWindow) => number[]) => pick(first).map((_, i) => windows.reduce((n, w) => n + (pick(w)[i] ?? 0), 0));
  const latency = sum((w) => w.latency);
  return { requests: sum((w) => w.requests), errors5xx: sum((w) => w.errors5xx), latency, p50Ms: quantile(latency, bounds, 0.5), p99Ms: quantile(latency, bounds, 0.99) };
}
