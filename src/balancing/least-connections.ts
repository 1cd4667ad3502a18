/**
 * Least connections: the target with the fewest in-flight requests (open
 * WebSockets included); ties go to the higher weight, then to rotation. The
 * scan starts just after the target picked last, so equally loaded targets
 * take turns instead of the first one always winning (which matters most at
 * low traffic, when every inflight is 0).
 *
 * pick() is O(n): inflight changes on every request, so nothing can be
 * precomputed. This is the one balancer that is not O(1) or O(log n) per
 * pick; pools are small and the scan touches no memory beyond the array.
 */
import type { Balanceable, Balancer } from './balancer.js';

/** LeastConnections picks the least loaded target. */
export class LeastConnections<T extends Balanceable = Balanceable> implements Balancer<T> {
  readonly name = 'least-connections';
  private targets: T[] = [];
  /** from is where the next scan starts: just after the last pick. */
  private from = 0;

  setTargets(targets: readonly T[]): void {
    this.targets = targets.slice();
    if (this.from >= this.targets.length) this.from = 0;
  }

  pick(_key: string, exclude?: T): T | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    const skip = exclude !== undefined && n > 1 ? exclude.id : undefined;
    let best = -1;
    for (let k = 0; k < n; k++) {
      const i = this.from + k < n ? this.from + k : this.from + k - n;
      const t = this.targets[i]!;
      if (t.id === skip) continue;
      if (best < 0 || better(t, this.targets[best]!)) best = i;
    }
    this.from = best + 1 === n ? 0 : best + 1;
    return this.targets[best];
  }
}

/** better is true when a should win over b: fewer in flight, then higher weight (earlier in the scan wins ties). */
function better(a: Balanceable, b: Balanceable): boolean {
  return a.inflight < b.inflight || (a.inflight === b.inflight && a.weight > b.weight);
}
