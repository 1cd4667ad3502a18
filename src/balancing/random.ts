/**
 * Random: uniform over the targets, or in proportion to weight when weights
 * differ. Cumulative weights are computed in setTargets; pick() draws one
 * number and binary-searches them, O(log n) and allocation-free. A retry
 * (`exclude`) draws over the other targets only, so it needs no re-draws.
 */
import type { Balanceable, Balancer } from './balancer.js';

/** RandomOptions tune Random; every field has a default. */
export interface RandomOptions {
  /** rng returns a number in [0, 1) (default Math.random; injectable in tests). */
  rng?: () => number;
}

/** Random picks targets at random, weighted when weights differ. */
export class Random<T extends Balanceable = Balanceable> implements Balancer<T> {
  readonly name = 'random';
  private readonly rng: () => number;
  private targets: T[] = [];
  /** cumulative[i] is the sum of the weights of targets 0..i. */
  private cumulative = new Float64Array(0);
  /** uniform is true when all weights are equal: no search needed. */
  private uniform = true;
  /** index maps a target id to its position, to find `exclude` in O(1). */
  private index = new Map<string, number>();

  constructor(options: RandomOptions = {}) {
    this.rng = options.rng ?? Math.random;
  }

  setTargets(targets: readonly T[]): void {
    this.targets = targets.slice();
    this.cumulative = new Float64Array(targets.length);
    let sum = 0;
    targets.forEach((t, i) => {
      sum += t.weight;
      this.cumulative[i] = sum;
    });
    this.uniform = targets.every((t) => t.weight === targets[0]!.weight);
    this.index = new Map(targets.map((t, i) => [t.id, i]));
  }

  pick(_key: string, exclude?: T): T | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    const ex = exclude !== undefined && n > 1 ? (this.index.get(exclude.id) ?? -1) : -1;
    if (this.uniform) {
      if (ex < 0) return this.targets[Math.min(Math.floor(this.rng() * n), n - 1)];
      // Draw over the n-1 others and shift past the excluded slot.
      const i = Math.min(Math.floor(this.rng() * (n - 1)), n - 2);
      return this.targets[i >= ex ? i + 1 : i];
    }
    const total = this.cumulative[n - 1]!;
    if (ex < 0) return this.targets[this.search(this.rng() * total)];
    // Draw over the total minus the excluded share, then skip its interval.
    const lo = ex === 0 ? 0 : this.cumulative[ex - 1]!;
    const width = this.cumulative[ex]! - lo;
    let x = this.rng() * (total - width);
    if (x >= lo) x += width;
    const i = this.search(x);
    // Rounding at the interval edge can land on the excluded slot: step off it.
    return this.targets[i !== ex ? i : ex + 1 < n ? ex + 1 : ex - 1];
  }

  /** search returns the first index whose cumulative weight exceeds x (clamped to the last). */
  private search(x: number): number {
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
