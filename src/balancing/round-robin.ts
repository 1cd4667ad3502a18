/**
 * Round robin: strict rotation over the eligible set (1→2→3→1), weights
 * ignored. pick() is O(1) and allocates nothing. When the set changes, the
 * rotation continues after the last picked target if it remains, so a health
 * transition does not send the next request back to the first target.
 */
import type { Balanceable, Balancer } from './balancer.js';

/** RoundRobin rotates through the targets in order. */
export class RoundRobin<T extends Balanceable = Balanceable> implements Balancer<T> {
  readonly name = 'round-robin';
  private targets: T[] = [];
  /** next is the index pick() returns next (before exclusion). */
  private next = 0;
  /** lastId is the id of the target picked last; undefined before the first pick. */
  private lastId: string | undefined = undefined;

  setTargets(targets: readonly T[]): void {
    const old = this.targets;
    this.targets = targets.slice();
    this.next = this.resume(old);
  }

  pick(_key: string, exclude?: T): T | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    let i = this.next;
    let t = this.targets[i]!;
    // ids are unique, so skipping one slot is enough to avoid `exclude`.
    if (exclude !== undefined && n > 1 && t.id === exclude.id) {
      i = i + 1 === n ? 0 : i + 1;
      t = this.targets[i]!;
    }
    this.next = i + 1 === n ? 0 : i + 1;
    this.lastId = t.id;
    return t;
  }

  /**
   * resume finds where the rotation continues in the new set: after the last
   * picked target if it remains; otherwise at the first target that followed
   * it in the old order and remains; otherwise at the start. O(n), once per
   * transition.
   */
  private resume(old: readonly T[]): number {
    const n = this.targets.length;
    if (n === 0 || this.lastId === undefined) return 0;
    const index = new Map(this.targets.map((t, i) => [t.id, i]));
    const at = index.get(this.lastId);
    if (at !== undefined) return (at + 1) % n;
    const from = old.findIndex((t) => t.id === this.lastId);
    for (let k = 1; k < old.length; k++) {
      const j = index.get(old[(from + k) % old.length]!.id);
      if (j !== undefined) return j;
    }
    return 0;
  }
}
