/**
 * The Balancer conformance suite: the same specification run against every
 * algorithm in BALANCERS, so the request path can rely on one behaviour
 * (empty pools, retries that avoid the failed target, set changes).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BALANCERS, createBalancer, isBalancerName } from '../../src/balancing/index.js';
import { ids, target, targets, type TestTarget } from './helpers.js';

/**
 * publishedBalancers reads the balancer names out of the route-file schema
 * published for editors (schema/route-file.schema.json): the names operators
 * are told they may write, whatever the TypeScript declares.
 */
function publishedBalancers(): string[] {
  const schema = JSON.parse(readFileSync(new URL('../../schema/route-file.schema.json', import.meta.url), 'utf8')) as {
    properties: { upstreams: { patternProperties: Record<string, { properties: { balancer: { anyOf?: { const: string }[]; enum?: string[] } } }> } };
  };
  const pools = Object.values(schema.properties.upstreams.patternProperties);
  expect(pools).toHaveLength(1);
  const balancer = pools[0]!.properties.balancer;
  return balancer.enum ?? (balancer.anyOf ?? []).map((b) => b.const);
}

describe('the balancer registry', () => {
  it('names the same algorithms as the published route-file schema', () => {
    const published = publishedBalancers();
    expect(published.length).toBeGreaterThan(0);
    expect([...BALANCERS].sort()).toEqual([...published].sort());
    // Every name an editor offers builds the balancer of that name.
    for (const name of published) {
      expect(isBalancerName(name), name).toBe(true);
      expect(createBalancer(name).name).toBe(name);
    }
  });

  it('throws on an unknown name, listing the known ones', () => {
    expect(() => createBalancer('fastest')).toThrow(/unknown balancer "fastest".*round-robin/);
    expect(isBalancerName('fastest')).toBe(false);
    expect(isBalancerName('toString')).toBe(false); // not fooled by Object.prototype
  });

  it('creates a fresh balancer per call (pools never share position)', () => {
    expect(createBalancer('round-robin')).not.toBe(createBalancer('round-robin'));
  });
});

/** SETS are the pools each property is checked against: equal and mixed weights, 2 to 6 targets. */
const SETS: { name: string; make: () => TestTarget[] }[] = [
  { name: '2 equal', make: () => targets('ab') },
  { name: '3 weighted 5,1,1', make: () => targets('abc', [5, 1, 1]) },
  { name: '4 weighted 1,2,3,4', make: () => targets('abcd', [1, 2, 3, 4]) },
  { name: '6 equal', make: () => targets('abcdef') },
  { name: '2 weighted 1000,1', make: () => targets('ab', [1000, 1]) },
];

describe.each(BALANCERS)('Balancer conformance: %s', (name) => {
  const make = () => createBalancer<TestTarget>(name);

  it('reports its registry name', () => {
    expect(make().name).toBe(name);
  });

  it('returns undefined before any targets and for an empty set', () => {
    const b = make();
    expect(b.pick('10.0.0.1')).toBeUndefined();
    b.setTargets(targets('abc'));
    b.setTargets([]);
    expect(b.pick('10.0.0.1')).toBeUndefined();
    expect(b.pick('10.0.0.1', target('a'))).toBeUndefined();
  });

  it('always returns the only target, even when it is excluded', () => {
    const b = make();
    const only = target('only');
    b.setTargets([only]);
    for (let i = 0; i < 20; i++) {
      expect(b.pick(`k${i}`)).toBe(only);
      expect(b.pick(`k${i}`, only)).toBe(only);
    }
  });

  it.each(SETS)('never returns the excluded target when another exists ($name)', ({ make: makeSet }) => {
    const b = make();
    const set = makeSet();
    b.setTargets(set);
    for (const excluded of set) {
      for (let i = 0; i < 300; i++) {
        const picked = b.pick(`10.1.${i >> 8}.${i & 255}`, excluded);
        expect(picked).toBeDefined();
        expect(picked!.id).not.toBe(excluded.id);
        b.pick(`10.2.0.${i & 255}`); // interleave plain picks so every position is tried
      }
    }
  });

  it('matches exclude by id, so a reloaded copy of the failed target is still avoided', () => {
    const b = make();
    b.setTargets(targets('ab'));
    for (let i = 0; i < 50; i++) expect(b.pick(`k${i}`, target('a'))!.id).toBe('b');
  });

  it('returns a target even when exclude is not in the set', () => {
    const b = make();
    b.setTargets(targets('ab'));
    for (let i = 0; i < 20; i++) expect(['a', 'b']).toContain(b.pick(`k${i}`, target('gone'))!.id);
  });

  it('only returns members of the current set across changes', () => {
    const b = make();
    const steps = ['abcde', 'abc', 'cdefg', 'g', 'xyz', 'axbycz'];
    for (const ids_ of steps) {
      b.setTargets(targets(ids_, [...ids_].map((_, i) => 1 + (i % 3))));
      for (const id of ids(b, 200)) expect(ids_).toContain(id);
    }
  });

  it('copies the array it is given', () => {
    const b = make();
    const set = targets('ab');
    b.setTargets(set);
    set.length = 0;
    set.push(target('intruder'));
    for (const id of ids(b, 50)) expect(['a', 'b']).toContain(id);
  });

  // Requests stay in flight here, as under load: with every inflight at 0,
  // least-connections rightly keeps choosing the heaviest target.
  it.each(SETS)('eventually picks every target with distinct keys under load ($name)', ({ make: makeSet }) => {
    const b = make();
    const set = makeSet();
    b.setTargets(set);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000 && seen.size < set.length; i++) {
      const picked = b.pick(`192.168.${(i >> 8) & 255}.${i & 255}/${i}`)!;
      picked.inflight++;
      seen.add(picked.id);
    }
    expect([...seen].sort()).toEqual(set.map((t) => t.id).sort());
  });
});
