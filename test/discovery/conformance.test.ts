/**
 * The DiscoveryProvider conformance suite: the same specification run against
 * every provider with a real source (an in-memory registry, a fake Eureka
 * server on a loopback port, dnsmasq), so a pool can rely on one behaviour:
 * whole sets, reported only when they change, never emptied by an error, and
 * nothing left running after stop().
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { DISCOVER_KINDS } from '../../src/config/discover.js';
import type { DiscoveredInstance } from '../../src/discovery/index.js';
import { HARNESSES, urls, type Harness } from './helpers.js';

/** KIND_OF maps a harness to the `kind` its provider reports. */
const KINDS = Object.keys(HARNESSES);

/** handles counts the process's active handles and requests by type (timers, sockets, DNS queries). */
function handles(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** grown lists the resource types that are more numerous now than in `base`. */
function grown(base: Map<string, number>): string[] {
  const now = handles();
  return [...now].filter(([k, n]) => n > (base.get(k) ?? 0)).map(([k, n]) => `${k} ${base.get(k) ?? 0}→${n}`);
}

/** NOT_DISCOVER_KEYS are providers without a `discover:` key: the client library's fixed lists. */
const NOT_DISCOVER_KEYS = ['static'];

describe('the provider registry', () => {
  it('has a conformance harness for every discover: key', () => {
    const harnessOf: Record<string, string> = { registry: 'registry', eureka: 'eureka', dns: 'dns', dnsSrv: 'dns-srv' };
    expect(DISCOVER_KINDS.map((k) => harnessOf[k])).toEqual(KINDS.filter((k) => !NOT_DISCOVER_KEYS.includes(k)));
  });
});

describe.each(KINDS)('DiscoveryProvider conformance: %s', (kind) => {
  let h: Harness;
  let sets: Array<readonly DiscoveredInstance[]>;
  const start = async (before?: (h: Harness) => void) => {
    h = await HARNESSES[kind]!();
    sets = [];
    before?.(h);
    h.provider.start((s) => sets.push(s));
    await waitFor(() => sets.length > 0, { message: 'the first set' });
  };

  afterEach(async () => {
    h.provider.stop();
    await h.close();
  });

  it('reports the first set after start, and its state', async () => {
    await start();
    expect(urls(sets[0])).toEqual(h.urlsA);
    const st = h.provider.state();
    expect(st.kind).toBe(kind);
    expect(st.instances).toBe(h.urlsA.length);
    expect(st.errors).toBe(0);
    expect(st.lastError).toBeUndefined();
    expect(st.lastSuccessAt).toBeGreaterThan(0);
    for (const i of sets[0]!) {
      expect(i.status).toBe('up');
      expect(i.weight).toBeGreaterThanOrEqual(1);
      expect(i.source).toMatch(new RegExp(`^${kind} `));
    }
  });

  it('reports a new set when the source changes', async () => {
    await start();
    await h.setB();
    await waitFor(() => sets.length > 1, { message: 'the changed set' });
    expect(urls(sets[1])).toEqual(h.urlsB);
    expect(h.provider.state().instances).toBe(h.urlsB.length);
  });

  it('does not call back for an identical refresh', async () => {
    await start();
    await h.refreshed();
    await h.refreshed();
    expect(sets).toHaveLength(1);
  });

  // A fixed list has no source to fail.
  // A fixed list has no source that can fail: the static provider is not given this case (not skipped: not applicable).
  if (kind !== 'static') it('keeps the last set while the source fails, counts the errors, and recovers', async () => {
    await start();
    await h.breakSource!();
    await waitFor(() => h.provider.state().errors >= 2, { message: 'two failed refreshes' });
    const failing = h.provider.state();
    expect(failing.lastError).toBeTruthy();
    expect(failing.instances).toBe(h.urlsA.length);
    expect(sets).toHaveLength(1); // nothing reported: no empty set, no partial set
    await h.setB();
    await h.repair!();
    await waitFor(() => h.provider.state().lastError === undefined, { message: 'recovery' });
    await waitFor(() => sets.length > 1, { message: 'the set changed while failing' });
    expect(urls(sets.at(-1))).toEqual(h.urlsB);
    expect(h.provider.state().errors).toBeGreaterThanOrEqual(failing.errors);
  });

  it('stops calling back after stop(), leaves no timer or socket, and stop() is idempotent', async () => {
    let base = handles();
    await start(() => (base = handles()));
    h.provider.stop();
    h.provider.stop();
    await h.setB();
    await waitFor(() => grown(base).length === 0 || undefined, { message: `no handles left (grown: ${grown(base).join(', ')})` });
    // With no timer and no socket left (awaited above), nothing can call back any more.
    expect(sets).toHaveLength(1);
    expect(grown(base)).toEqual([]);
  });
});
