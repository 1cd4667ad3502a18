import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { LinkedSet } from '../../src/process/linked-set.js';

describe('LinkedSet', () => {
  it('adds in order, deletes by node, and counts', () => {
    const set = new LinkedSet<string>();
    const a = set.add('a');
    const b = set.add('b');
    const c = set.add('c');
    expect(set.size).toBe(3);
    expect(set.values()).toEqual(['a', 'b', 'c']);
    expect(set.delete(b)).toBe(true);
    expect(set.values()).toEqual(['a', 'c']);
    expect(set.delete(a)).toBe(true);
    expect(set.delete(c)).toBe(true);
    expect(set.size).toBe(0);
    expect(set.values()).toEqual([]);
    set.add('d');
    expect(set.values()).toEqual(['d']);
  });

  it('deleting twice, or a node of another set, changes nothing', () => {
    const one = new LinkedSet<number>();
    const two = new LinkedSet<number>();
    const n = one.add(1);
    one.add(2);
    expect(two.delete(n)).toBe(false);
    expect(one.delete(n)).toBe(true);
    expect(one.delete(n)).toBe(false);
    expect(one.values()).toEqual([2]);
    expect(n.value).toBeUndefined();
  });

  it('values is a snapshot: members may be deleted while it is walked', () => {
    const set = new LinkedSet<number>();
    const nodes = [1, 2, 3, 4].map((v) => set.add(v));
    const seen: number[] = [];
    for (const v of set.values()) {
      seen.push(v);
      for (const n of nodes) set.delete(n);
    }
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(set.size).toBe(0);
  });

  // The reason the file exists: members that came and went are not kept past young-generation collections.
  it('leaves nothing for a full collection when short-lived members churn through a long-lived set (a Set does)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
    const settle = () => new Promise((r) => setTimeout(r, 0));
    /** growth is what 20,000 members of ~1 KB, at most 10 at a time, leave in the heap after two young-generation collections. */
    const growth = async (churn: (member: object) => () => void): Promise<number> => {
      await settle();
      gc();
      gc(); // the set's own storage is now in the old generation, as a listener's is
      const before = process.memoryUsage().heapUsed;
      const open: (() => void)[] = [];
      for (let i = 0; i < 20_000; i++) {
        open.push(churn({ payload: new Array(120).fill(i) }));
        if (open.length > 10) open.shift()!();
      }
      for (const close of open.splice(0)) close();
      await settle();
      gc({ type: 'minor' });
      gc({ type: 'minor' });
      return process.memoryUsage().heapUsed - before;
    };
    const linked = new LinkedSet<object>();
    const set = new Set<object>();
    const viaSet = await growth((m) => {
      set.add(m);
      return () => set.delete(m);
    });
    const viaLinked = await growth((m) => {
      const node = linked.add(m);
      return () => linked.delete(node);
    });
    // ~20 MB went through each; a Set kept megabytes of it for the next full collection (the control), the list about nothing.
    expect(viaSet).toBeGreaterThan(4 * 1024 * 1024);
    expect(viaLinked).toBeLessThan(1024 * 1024);
  });
});
