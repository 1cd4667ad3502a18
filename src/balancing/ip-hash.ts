/**
 * IP hash: consistent hashing of the client key on a ring of virtual nodes,
 * so a client keeps its target, and removing one of N targets moves only the
 * keys that target owned (about 1/N) instead of reshuffling everyone.
 *
 * Each target owns VNODES_PER_WEIGHT points per unit of weight (weights are
 * first divided by their gcd, and the ring is scaled down to at most
 * MAX_RING points). A point of a target depends only on its id and ordinal,
 * so the same target lands on the same points in every ring built. The ring
 * is built and sorted in setTargets; pick() hashes the key (FNV-1a with a
 * murmur3 finaliser, no allocation) and binary-searches, O(log n).
 */
import type { Balanceable, Balancer } from './balancer.js';

/** VNODES_PER_WEIGHT is the ring points per unit of weight (160, as in ketama). */
export const VNODES_PER_WEIGHT = 160;
/** MAX_RING bounds the ring's points per pool (65 536: about 768 KiB). */
export const MAX_RING = 65_536;

/** IpHash maps each key to a target by consistent hashing. */
export class IpHash<T extends Balanceable = Balanceable> implements Balancer<T> {
  readonly name = 'ip-hash';
  private targets: T[] = [];
  /** points holds the ring's hashes, ascending. */
  private points = new Uint32Array(0);
  /** owner[i] is the target index owning points[i]. */
  private owner = new Int32Array(0);
  /** nextOther[i] is the next ring slot (cyclically) owned by a different target, -1 if none: the retry pick. */
  private nextOther: Int32Array = new Int32Array(0);

  setTargets(targets: readonly T[]): void {
    this.targets = targets.slice();
    const counts = pointCounts(this.targets);
    const ring: { hash: number; owner: number; id: string }[] = [];
    this.targets.forEach((t, i) => {
      for (let v = 0; v < counts[i]!; v++) ring.push({ hash: hash32(`${t.id}#${v}`), owner: i, id: t.id });
    });
    // Ties (hash collisions) are ordered by id so the ring never depends on target order.
    ring.sort((a, b) => a.hash - b.hash || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.points = Uint32Array.from(ring, (p) => p.hash);
    this.owner = Int32Array.from(ring, (p) => p.owner);
    this.nextOther = nextOther(this.owner);
  }

  pick(key: string, exclude?: T): T | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    let slot = this.search(hash32(key));
    const t = this.targets[this.owner[slot]!]!;
    if (exclude === undefined || this.targets.length === 1 || t.id !== exclude.id) return t;
    // A retry walks clockwise to the next distinct target, as a removal would.
    slot = this.nextOther[slot]!;
    return this.targets[this.owner[slot]!];
  }

  /** search returns the first slot whose point is >= h, wrapping to 0 past the end. */
  private search(h: number): number {
    const p = this.points;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === p.length ? 0 : lo;
  }
}

/** pointCounts gives each target its ring points: weight / gcd × VNODES_PER_WEIGHT, scaled to fit MAX_RING, at least 1. */
function pointCounts(targets: readonly Balanceable[]): number[] {
  const integral = targets.every((t) => Number.isInteger(t.weight));
  const unit = integral ? targets.reduce((g, t) => gcd(g, t.weight), 0) || 1 : 1;
  const wanted = targets.map((t) => (t.weight / unit) * VNODES_PER_WEIGHT);
  const sum = wanted.reduce((a, b) => a + b, 0);
  const scale = sum > MAX_RING ? MAX_RING / sum : 1;
  return wanted.map((w) => Math.max(1, Math.floor(w * scale)));
}

/** nextOther computes, for each slot, the next slot owned by another target (one backward pass around the ring). */
function nextOther(owner: Int32Array): Int32Array {
  const n = owner.length;
  const out = new Int32Array(n).fill(-1);
  let edge = -1; // a slot whose successor has a different owner
  for (let i = 0; i < n && edge < 0; i++) if (owner[i] !== owner[(i + 1) % n]) edge = i;
  if (edge < 0) return out;
  for (let k = 0; k < n; k++) {
    const i = (edge - k + n) % n;
    const next = (i + 1) % n;
    out[i] = owner[next] !== owner[i] ? next : out[next]!;
  }
  return out;
}

/**
 * hash32 is 32-bit FNV-1a over the UTF-16 code units, then murmur3's fmix32
 * finaliser: FNV alone spreads short, similar keys (IPs) poorly across the ring.
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
