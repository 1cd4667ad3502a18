/** Small statistics helpers for benchmark samples. */

/** mean of numbers (NaN for none). */
export function mean(xs) {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** stdev is the sample standard deviation (0 for fewer than 2 samples). */
export function stdev(xs) {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** percentile reads the p-th percentile (0..100) of an ascending-sorted array (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** median of numbers (NaN for none; the mean of the middle two for an even count). */
export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** T975 is Student's t at 97.5 % for 1..30 degrees of freedom (index = df); beyond, the normal 1.96 is close enough. */
const T975 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/**
 * meanInterval is the mean of independent samples with its 95 % confidence
 * interval (Student's t): { estimate, low, high } (NaN bounds with fewer than
 * two samples). The samples must be independent units — e.g. one per pair of
 * fresh processes, not the blocks of one pair, which share its processes' luck.
 */
export function meanInterval(xs) {
  const estimate = mean(xs);
  if (xs.length < 2) return { estimate, low: NaN, high: NaN };
  const half = (T975[xs.length - 1] ?? 1.96) * (stdev(xs) / Math.sqrt(xs.length));
  return { estimate, low: estimate - half, high: estimate + half };
}
