/**
 * Smooth weighted round robin, as nginx does it: each pick adds every
 * target's weight to its current weight, takes the largest (first on ties)
 * and subtracts the total from it. Weights 5,1,1 give a,a,b,a,c,a,a: the
 * heavy target's turns are spread out instead of bunched.
 *
 * That loop is O(n) per pick, so the sequence is precomputed instead: one
 * cycle (sum of weights / their gcd, at most MAX_SCHEDULE picks) is simulated
 * in setTargets and pick() only reads the next slot, O(1) and allocation-free.
 * From a fresh start the state returns to zero after one cycle, so the
 * schedule simply repeats. When carried state (or a cycle longer than
 * MAX_SCHEDULE) keeps it from repeating, the next chunk is simulated when the
 * current one runs out: O(n) amortised per pick until the state settles.
 *
 * The current weight of every target that remains is carried across
 * setTargets; new targets start at 0, as in nginx.
 */
import type { Balanceable, Balancer } from './balancer.js';

/** MAX_SCHEDULE bounds the precomputed picks per pool (8192: 64 KiB of schedule). */
export const MAX_SCHEDULE = 8192;

/** WeightedRoundRobin is nginx's smooth weighted round robin over a precomputed schedule. */
export class WeightedRoundRobin<T extends Balanceable = Balanceable> implements Balancer<T> {
  readonly name = 'weighted-round-robin';
  private targets: T[] = [];
  private weights = new Float64Array(0);
  private total = 0;
  /** schedule holds the target index of each upcoming pick. */
  private schedule = new Int32Array(0);
  /** substitute[p] is the next slot after p whose target differs (cyclically), -1 if none: the retry pick. */
  private substitute = new Int32Array(0);
  /** cursor is the next slot of schedule to use. */
  private cursor = 0;
  /** start is every target's current weight before schedule[0]. */
  private start = new Float64Array(0);
  /** end is every target's current weight after the last slot. */
  private end = new Float64Array(0);
  /** repeats is true when end equals start: the schedule is a full cycle. */
  private repeats = false;

  setTargets(targets: readonly T[]): void {
    const carried = this.currentWeights();
    const n = targets.length;
    this.targets = targets.slice();
    this.weights = Float64Array.from(targets, (t) => t.weight);
    this.total = this.weights.reduce((a, b) => a + b, 0);
    const length = n === 0 ? 0 : Math.max(1, Math.min(cycleLength(this.weights, this.total), MAX_SCHEDULE));
    this.schedule = new Int32Array(length);
    this.substitute = new Int32Array(length);
    this.start = Float64Array.from(targets, (t) => carried.get(t.id) ?? 0);
    this.end = new Float64Array(n);
    this.cursor = 0;
    this.fill();
  }

  pick(_key: string, exclude?: T): T | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    if (this.cursor === this.schedule.length) {
      if (!this.repeats) {
        this.start.set(this.end);
        this.fill();
      }
      this.cursor = 0;
    }
    const p = this.cursor++;
    const t = this.targets[this.schedule[p]!]!;
    if (exclude === undefined || n === 1 || t.id !== exclude.id) return t;
    // A retry takes the next different target of the schedule; the schedule
    // itself moves on as usual, so other requests keep the exact sequence.
    const q = this.substitute[p]!;
    if (q >= 0) return this.targets[this.schedule[q]!]!;
    return this.targets[this.targets[0]!.id === exclude.id ? 1 : 0]!;
  }

  /**
   * fill simulates one chunk of smooth weighted round robin from `start`,
   * writing the picks into schedule and the final state into end.
   */
  private fill(): void {
    const { weights, total, schedule, end } = this;
    const n = weights.length;
    end.set(this.start);
    for (let p = 0; p < schedule.length; p++) {
      let best = 0;
      for (let i = 0; i < n; i++) {
        end[i]! += weights[i]!;
        if (end[i]! > end[best]!) best = i;
      }
      end[best]! -= total;
      schedule[p] = best;
    }
    // A plain loop, not every(): fill() can run inside pick(), which must not allocate.
    let repeats = true;
    for (let i = 0; i < n && repeats; i++) repeats = end[i] === this.start[i];
    this.repeats = repeats;
    this.fillSubstitutes();
  }

  /** fillSubstitutes computes substitute[] in one backward pass around the cycle. */
  private fillSubstitutes(): void {
    const { schedule, substitute } = this;
    const length = schedule.length;
    let edge = -1; // a slot whose successor holds a different target
    for (let p = 0; p < length && edge < 0; p++) if (schedule[p] !== schedule[(p + 1) % length]) edge = p;
    if (edge < 0) {
      substitute.fill(-1);
      return;
    }
    for (let k = 0; k < length; k++) {
      const p = (edge - k + length) % length;
      const next = (p + 1) % length;
      substitute[p] = schedule[next] !== schedule[p] ? next : substitute[next]!;
    }
  }

  /** currentWeights is every target's current weight at the cursor, by id (for carrying). */
  private currentWeights(): Map<string, number> {
    const counts = new Float64Array(this.targets.length);
    for (let p = 0; p < this.cursor; p++) counts[this.schedule[p]!]! += 1;
    const out = new Map<string, number>();
    this.targets.forEach((t, i) => {
      out.set(t.id, this.start[i]! + this.cursor * this.weights[i]! - this.total * counts[i]!);
    });
    return out;
  }
}

/** cycleLength is the period of smooth WRR from a zero state: sum of weights / gcd (integers), else MAX_SCHEDULE. */
function cycleLength(weights: Float64Array, total: number): number {
  let g = 0;
  for (const w of weights) {
    if (!Number.isInteger(w)) return MAX_SCHEDULE;
    g = gcd(g, w);
  }
  return g === 0 ? 1 : total / g;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
