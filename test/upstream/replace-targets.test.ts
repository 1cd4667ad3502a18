/**
 * Upstream.replaceTargets: a discovered set applied to a pool that serves,
 * like a reload. Unchanged urls keep their Target (state carries over), new
 * ones slow-start, removed ones drain and close after their last in-flight
 * request, source statuses map to draining / not eligible, and the balancer
 * and the health hooks see each new set.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createBalancer } from '../../src/balancing/index.js';
import type { DiscoveredInstance, InstanceStatus } from '../../src/discovery/index.js';
import { startUpstream, waitFor, type TestUpstream } from '../../src/testing/index.js';
import { Target, type TargetPoolOptions } from '../../src/upstream/target.js';
import { Upstream, type TargetsChange, type UpstreamSettings } from '../../src/upstream/upstream.js';

const OPTS: TargetPoolOptions = { connections: 4, pipelining: 1, keepAliveMs: 1000, connectTimeoutMs: 1000, tls: { verify: true } };
const SETTINGS: UpstreamSettings = { hostHeader: 'client', connectTimeoutMs: 1000, responseTimeoutMs: 5000, idleTimeoutMs: 5000, panicThreshold: 0, slowStartMs: 10_000 };

let clock = 1_000_000;
const made: Target[] = [];
const pools: Upstream[] = [];
const makeTarget = (url: URL, weight: number, index: number) => {
  const t = new Target(url, weight, index, 'k', OPTS);
  made.push(t);
  return t;
};

function pool(settings: Partial<UpstreamSettings> = {}): Upstream {
  const u = new Upstream('orders', 'key', [], createBalancer<Target>('round-robin'), { ...SETTINGS, ...settings }, pino({ level: 'silent' }), () => clock);
  pools.push(u);
  return u;
}

const inst = (port: number, status: InstanceStatus = 'up', weight = 1): DiscoveredInstance => ({ url: `http://127.0.0.1:${port}`, weight, status, source: `test ${port}` });
const ids = (ts: readonly Target[]) => ts.map((t) => t.id).sort();
const picked = (u: Upstream, n = 12) => [...new Set(Array.from({ length: n }, (_, i) => u.pick(`10.0.0.${i}`)?.id))].sort();

afterEach(async () => {
  for (const u of pools.splice(0)) u.dispose();
  await Promise.all(made.splice(0).map((t) => t.close()));
});

describe('Upstream.replaceTargets', () => {
  it('fills an empty pool with its first set, all in rotation at once (no slow start among equals)', () => {
    const u = pool();
    const change = u.replaceTargets([inst(9001), inst(9002)], makeTarget);
    expect(ids(change.added)).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002']);
    expect(change.removed).toEqual([]);
    expect(u.targets.map((t) => t.readySince)).toEqual([0, 0]);
    expect(ids(u.eligible)).toEqual(ids(u.targets));
    expect(picked(u)).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002']);
    expect(u.targets.map((t) => t.source)).toEqual(['test 9001', 'test 9002']);
  });

  it('keeps the Target of an unchanged url: connections, health and counters carry over; weight and source follow the set', () => {
    const u = pool();
    u.replaceTargets([inst(9001), inst(9002)], makeTarget);
    const [a, b] = u.targets as [Target, Target];
    a.requests = 42;
    b.activeHealthy = false;
    u.recompute();
    u.replaceTargets([{ ...inst(9001, 'up', 7), source: 'test 9001 again' }, inst(9002), inst(9003)], makeTarget);
    expect(u.targets[0]).toBe(a);
    expect(u.targets[1]).toBe(b);
    expect(a.requests).toBe(42);
    expect(a.weight).toBe(7);
    expect(a.source).toBe('test 9001 again');
    expect(b.activeHealthy).toBe(false); // still out until its checker says otherwise
    expect(ids(u.eligible)).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9003']);
  });

  it('slow-starts a target that joins a serving pool', () => {
    const u = pool();
    u.replaceTargets([inst(9001)], makeTarget);
    clock += 60_000;
    const change = u.replaceTargets([inst(9001), inst(9002)], makeTarget);
    expect(change.added).toHaveLength(1);
    expect(change.added[0]!.readySince).toBe(clock);
    expect(u.targets[0]!.readySince).toBe(0);
    // Ten seconds of slow start: at 1 s it gets far less than its half.
    clock += 1000;
    let fresh = 0;
    for (let i = 0; i < 2000; i++) if (u.pick(`k${i}`)!.id === 'http://127.0.0.1:9002') fresh++;
    expect(fresh).toBeLessThan(600); // a full share would be ~1000

    clock += 10_000;
    fresh = 0;
    for (let i = 0; i < 2000; i++) if (u.pick(`k${i}`)!.id === 'http://127.0.0.1:9002') fresh++;
    expect(fresh).toBeGreaterThan(800);
  });

  it('maps source statuses: draining drains, down stays listed but takes nothing, up again ramps up', () => {
    const u = pool();
    u.replaceTargets([inst(9001), inst(9002), inst(9003)], makeTarget);
    u.replaceTargets([inst(9001), inst(9002, 'draining'), inst(9003, 'down')], makeTarget);
    const [, b, c] = u.targets as [Target, Target, Target];
    expect(b.state(clock)).toBe('draining');
    expect(c.state(clock)).toBe('down');
    expect(u.targets).toHaveLength(3);
    expect(ids(u.eligible)).toEqual(['http://127.0.0.1:9001']);
    expect(picked(u)).toEqual(['http://127.0.0.1:9001']);
    clock += 5000;
    u.replaceTargets([inst(9001), inst(9002), inst(9003)], makeTarget);
    expect(c.readySince).toBe(clock);
    expect(ids(u.eligible)).toHaveLength(3);
  });

  it('never balances over draining or down instances, even in panic mode', () => {
    const u = pool({ panicThreshold: 50 });
    u.replaceTargets([inst(9001), inst(9002, 'down'), inst(9003, 'draining')], makeTarget);
    u.targets[0]!.activeHealthy = false;
    u.recompute();
    expect(u.panic).toBe(true);
    expect(ids(u.eligible)).toEqual(['http://127.0.0.1:9001']);
  });

  it('drops and closes a removed target at once when it has nothing in flight', async () => {
    const u = pool();
    u.replaceTargets([inst(9001), inst(9002)], makeTarget);
    const gone = u.targets[0]!;
    const change = u.replaceTargets([inst(9002)], makeTarget);
    expect(change.removed).toEqual([gone]);
    expect(ids(u.targets)).toEqual(['http://127.0.0.1:9002']);
    expect(u.targets[0]!.index).toBe(0); // indexes are positions (sticky cookies, admin API)
    await waitFor(() => gone.pool.closed || undefined, { message: 'the removed target closed' });
  });

  it('an empty set empties the rotation (a real answer: the app has no instances)', () => {
    const u = pool();
    u.replaceTargets([inst(9001)], makeTarget);
    u.replaceTargets([], makeTarget);
    expect(u.eligible).toEqual([]);
    expect(u.pick('k')).toBeUndefined();
  });

  it('tells the targets-changed hooks what was added and removed, and not when nothing was', () => {
    const u = pool();
    const changes: TargetsChange[] = [];
    u.onTargetsChanged((c) => changes.push(c));
    u.replaceTargets([inst(9001), inst(9002)], makeTarget);
    u.replaceTargets([inst(9002, 'up', 3), inst(9001)], makeTarget); // a weight change only
    u.replaceTargets([inst(9002), inst(9003)], makeTarget);
    expect(changes).toHaveLength(2);
    expect(ids(changes[1]!.added)).toEqual(['http://127.0.0.1:9003']);
    expect(ids(changes[1]!.removed)).toEqual(['http://127.0.0.1:9001']);
    expect(ids(changes[1]!.current)).toEqual(['http://127.0.0.1:9002', 'http://127.0.0.1:9003']);
  });
});

describe('Upstream.replaceTargets with a request in flight', () => {
  let slow: TestUpstream;
  let release: (() => void) | undefined;

  afterEach(async () => {
    release?.();
    release = undefined;
    await slow?.close();
  });

  it('drains a removed target: no new requests, the in-flight one finishes, then it is closed and dropped', async () => {
    let held = false;
    slow = await startUpstream('slow', (_req, res) => {
      held = true;
      release = () => {
        if (!res.headersSent) res.writeHead(200).end('done');
      };
    });
    const other = await startUpstream('other');
    try {
      const u = pool();
      u.replaceTargets([{ url: slow.url, weight: 1, status: 'up', source: 'test slow' }, { url: other.url, weight: 1, status: 'up', source: 'test other' }], makeTarget);
      const t = u.targets.find((x) => x.id === slow.url)!;
      // What the proxy does around an attempt: inflight up, dispatch, inflight down at the end.
      t.inflight++;
      const response = t.pool.request({ path: '/', method: 'GET' }).then(async (r) => {
        const body = await r.body.text();
        t.inflight--;
        return body;
      });
      await waitFor(() => held || undefined, { message: 'the request reached the upstream' });

      const change = u.replaceTargets([{ url: other.url, weight: 1, status: 'up', source: 'test other' }], makeTarget);
      expect(change.removed).toEqual([t]);
      expect(u.targets).toContain(t); // still listed, for /upstreams
      expect(t.state(clock)).toBe('draining');
      expect(ids(u.eligible)).toEqual([other.url]);
      expect(picked(u)).toEqual([other.url]);
      u.setDraining(t, false); // an operator cannot bring back what discovery removed
      expect(t.draining).toBe(true);

      release!();
      expect(await response).toBe('done');
      await waitFor(() => !u.targets.includes(t) || undefined, { message: 'the drained target dropped' });
      await waitFor(() => t.pool.closed || undefined, { message: 'the drained target closed' });
      expect(u.targets.map((x) => x.index)).toEqual([0]);
    } finally {
      await other.close();
    }
  });

  it('takes a removed target back when it is listed again before it drained out', async () => {
    slow = await startUpstream('slow');
    const u = pool();
    u.replaceTargets([inst(9001), { url: slow.url, weight: 1, status: 'up', source: 's' }], makeTarget);
    const t = u.targets[1]!;
    t.inflight = 1; // something in flight keeps it draining
    u.replaceTargets([inst(9001)], makeTarget);
    expect(t.retiring).toBe(true);
    clock += 1000;
    const change = u.replaceTargets([inst(9001), { url: slow.url, weight: 1, status: 'up', source: 's' }], makeTarget);
    expect(change.added).toEqual([t]);
    expect(t.retiring).toBe(false);
    expect(t.readySince).toBe(clock);
    expect(ids(u.eligible)).toEqual(ids(u.targets));
    t.inflight = 0;
  });
});
