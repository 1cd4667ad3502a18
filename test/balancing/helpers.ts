/**
 * Shared helpers for the balancer tests: plain targets with a mutable
 * inflight, a seeded generator (distribution tests must not flake), and a
 * tally of picks.
 */
import type { Balanceable, Balancer } from '../../src/balancing/balancer.js';

/** TestTarget is a Balanceable whose inflight (and weight) tests change by hand. */
export interface TestTarget extends Balanceable {
  inflight: number;
  weight: number;
}

/** target makes a TestTarget. */
export function target(id: string, weight = 1, inflight = 0): TestTarget {
  return { id, weight, inflight };
}

/** targets makes targets named by the letters of `ids`, with optional weights. */
export function targets(ids: string, weights: number[] = []): TestTarget[] {
  return [...ids].map((id, i) => target(id, weights[i] ?? 1));
}

/** seeded returns mulberry32, a small deterministic generator of numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ids picks `n` times (key = "k<i>" unless given) and returns the picked ids. */
export function ids<T extends Balanceable>(b: Balancer<T>, n: number, key?: (i: number) => string): (string | undefined)[] {
  return Array.from({ length: n }, (_, i) => b.pick(key ? key(i) : `k${i}`)?.id);
}

/** tally counts picks per id. */
export function tally(picked: readonly (string | undefined)[]): Map<string | undefined, number> {
  const out = new Map<string | undefined, number>();
  for (const id of picked) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}
