/**
 * The InstanceStore conformance suite: one specification run against the
 * memory store and the Redis store (a throwaway redis-server), so the registry
 * can rely on one behaviour: compare-and-set writes, limits checked only when
 * an instance is added, renewals counted per bucket, evictions that remove an
 * instance once and spare one renewed since it was listed, change events.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/stores/redis-client.js';
import { MemoryInstanceStore } from '../../src/registry/memory-instance-store.js';
import { RedisInstanceStore } from '../../src/registry/redis-instance-store.js';
import type { InstanceStore } from '../../src/registry/instance-store.js';
import type { InstanceRecord } from '../../src/registry/instance.js';
import { waitFor } from '../../src/testing/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { silent } from './helpers.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  if (!redis.external) await redis.stop();
});

const DRIVERS: { name: string; make: () => Promise<InstanceStore> }[] = [
  { name: 'memory', make: async () => new MemoryInstanceStore() },
  {
    name: 'redis',
    make: async () => {
      // A fresh prefix per store: tests never see each other's keys, even on a shared REDIS_URL.
      const store = new RedisInstanceStore(createRedis(redis.url, silent), { keyPrefix: `{sy-test-${randomUUID().slice(0, 8)}}:`, ownsClient: true });
      await waitFor(() => store.healthy(), { message: 'redis client ready' });
      return store;
    },
  },
];

const LIMITS = { maxPerApp: 3, maxApps: 1000 };
const TWO_APPS = { maxPerApp: 3, maxApps: 2 };

function rec(app: string, instanceId: string, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    app, instanceId, hostName: 'localhost', ipAddr: '127.0.0.1', port: 8080, portEnabled: true, securePort: 443, securePortEnabled: false,
    status: 'UP', overriddenStatus: 'UNKNOWN', vipAddress: undefined, secureVipAddress: undefined, homePageUrl: undefined, statusPageUrl: undefined,
    healthCheckUrl: undefined, secureHealthCheckUrl: undefined, dataCenter: { class: 'x', name: 'MyOwn', metadata: undefined }, metadata: { zone: 'a' },
    countryId: 1, renewalIntervalSecs: 30, registeredAt: 1000, serviceUpAt: 1000, lastDirtyTimestamp: 1000, lastUpdatedTimestamp: 1000, ...over,
  };
}

describe.each(DRIVERS)('InstanceStore conformance: $name', ({ make }) => {
  let store: InstanceStore;
  beforeAll(async () => {
    store = await make();
  });
  afterAll(() => store.close());
  const app = () => `APP${randomUUID().slice(0, 6).toUpperCase()}`;

  it('adds, reads back and lists a record with its lease', async () => {
    const a = app();
    expect(await store.put(rec(a, 'i1'), { expect: undefined, renewAt: 5000, ...LIMITS })).toBe('ok');
    const got = await store.get({ app: a, instanceId: 'i1' });
    expect(got?.record).toEqual(JSON.parse(JSON.stringify(rec(a, 'i1'))));
    expect(await store.loadApp(a)).toEqual([expect.objectContaining({ app: a, instanceId: 'i1', lastRenewedAt: 5000, metadata: { zone: 'a' } })]);
    expect((await store.load()).instances.map((i) => i.instanceId)).toContain('i1');
  });

  it('writes only against the token it read (compare-and-set)', async () => {
    const a = app();
    await store.put(rec(a, 'i1'), { expect: undefined, ...LIMITS });
    expect(await store.put(rec(a, 'i1'), { expect: undefined, ...LIMITS })).toBe('conflict'); // it exists now
    const { token } = (await store.get({ app: a, instanceId: 'i1' }))!;
    expect(await store.put(rec(a, 'i1', { status: 'DOWN' }), { expect: token, ...LIMITS })).toBe('ok');
    expect(await store.put(rec(a, 'i1', { status: 'STARTING' }), { expect: token, ...LIMITS })).toBe('conflict'); // stale token
    expect((await store.get({ app: a, instanceId: 'i1' }))!.record.status).toBe('DOWN');
  });

  it('checks maxPerApp only when adding, and keeps the lease on an update without renewAt', async () => {
    const a = app();
    for (const id of ['i1', 'i2', 'i3']) expect(await store.put(rec(a, id), { expect: undefined, renewAt: 7000, ...LIMITS })).toBe('ok');
    expect(await store.put(rec(a, 'i4'), { expect: undefined, ...LIMITS })).toBe('app-full');
    const { token } = (await store.get({ app: a, instanceId: 'i2' }))!;
    expect(await store.put(rec(a, 'i2', { metadata: { zone: 'b' } }), { expect: token, ...LIMITS })).toBe('ok');
    const i2 = (await store.loadApp(a)).find((i) => i.instanceId === 'i2')!;
    expect(i2).toMatchObject({ metadata: { zone: 'b' }, lastRenewedAt: 7000 });
    expect(await store.loadApp(a)).toHaveLength(3);
  });

  it('refuses a new application beyond maxApps', async () => {
    const fresh = await make();
    try {
      expect(await fresh.put(rec('A1', 'i'), { expect: undefined, ...TWO_APPS })).toBe('ok');
      expect(await fresh.put(rec('A2', 'i'), { expect: undefined, ...TWO_APPS })).toBe('ok');
      expect(await fresh.put(rec('A3', 'i'), { expect: undefined, ...TWO_APPS })).toBe('too-many-apps');
      expect(await fresh.put(rec('A2', 'j'), { expect: undefined, ...TWO_APPS })).toBe('ok'); // an existing app may grow
      expect(await fresh.remove({ app: 'A1', instanceId: 'i' })).toBe(true);
      expect(await fresh.put(rec('A3', 'i'), { expect: undefined, ...TWO_APPS })).toBe('ok'); // an emptied app frees its place
    } finally {
      await fresh.close();
    }
  });

  it('removes an instance once', async () => {
    const a = app();
    await store.put(rec(a, 'i1'), { expect: undefined, ...LIMITS });
    expect(await store.remove({ app: a, instanceId: 'i1' })).toBe(true);
    expect(await store.remove({ app: a, instanceId: 'i1' })).toBe(false);
    expect(await store.get({ app: a, instanceId: 'i1' })).toBeUndefined();
    expect(await store.loadApp(a)).toEqual([]);
  });

  it('renews known instances only, and counts renewals per bucket', async () => {
    const a = app();
    const b0 = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    await store.put(rec(a, 'i1'), { expect: undefined, renewAt: 1, ...LIMITS });
    expect(await store.renew({ app: a, instanceId: 'i1' }, 9000, b0)).toBe(true);
    expect(await store.renew({ app: a, instanceId: 'i1' }, 9100, b0)).toBe(true);
    expect(await store.renew({ app: a, instanceId: 'i1' }, 9200, b0 + 1)).toBe(true);
    expect(await store.renew({ app: a, instanceId: 'nope' }, 9300, b0 + 1)).toBe(false);
    expect(await store.renewals([b0])).toBe(2);
    expect(await store.renewals([b0, b0 + 1, b0 + 2])).toBe(3);
    expect((await store.loadApp(a))[0]!.lastRenewedAt).toBe(9200);
  });

  it('lists expired leases, and evicts each once, sparing one renewed since it was listed', async () => {
    const a = app();
    await store.put(rec(a, 'old'), { expect: undefined, renewAt: 100, ...LIMITS });
    await store.put(rec(a, 'late'), { expect: undefined, renewAt: 100, ...LIMITS });
    await store.put(rec(a, 'new'), { expect: undefined, renewAt: 5000, ...LIMITS });
    const expired = (await store.expired(1000)).filter((k) => k.app === a);
    expect(expired.map((k) => k.instanceId).sort()).toEqual(['late', 'old']);
    await store.renew({ app: a, instanceId: 'late' }, 6000, 1);
    expect(await store.evict(expired, 1000)).toEqual([{ app: a, instanceId: 'old' }]);
    expect(await store.evict(expired, 1000)).toEqual([]); // a second evictor finds nothing
    expect((await store.loadApp(a)).map((i) => i.instanceId).sort()).toEqual(['late', 'new']);
  });

  it('moves the version and announces the application on every change', async () => {
    const a = app();
    const heard: string[] = [];
    const off = store.subscribe((x) => heard.push(x));
    const v0 = await store.version();
    await waitFor(async () => {
      // The Redis subscriber connects in the background: write until a message comes back.
      await store.put(rec(a, `i${heard.length}-${Math.random()}`), { expect: undefined, maxPerApp: 1000, maxApps: 1000 });
      return heard.includes(a);
    }, { message: 'a change announcement' });
    off();
    expect(await store.version()).not.toBe(v0);
  });

  it('restores instances as they were, leases included, never overwriting one it holds', async () => {
    const a = app();
    await store.put(rec(a, 'fresh', { status: 'DOWN' }), { expect: undefined, renewAt: 9999, ...LIMITS });
    await store.restore([{ ...rec(a, 'r1'), lastRenewedAt: 4242 }, { ...rec(a, 'fresh'), lastRenewedAt: 1 }]);
    const got = (await store.loadApp(a)).sort((x, y) => x.instanceId.localeCompare(y.instanceId));
    expect(got).toEqual([expect.objectContaining({ instanceId: 'fresh', status: 'DOWN', lastRenewedAt: 9999 }), expect.objectContaining({ instanceId: 'r1', lastRenewedAt: 4242 })]);
  });

  it('keeps one epoch for its lifetime, and the version token changes with every change', async () => {
    const e = await store.epoch();
    expect(await store.epoch()).toBe(e);
    const v = await store.version();
    expect(v.startsWith(`${e}:`)).toBe(true);
    await store.put(rec(app(), 'v1'), { expect: undefined, ...LIMITS });
    expect(await store.version()).not.toBe(v);
  });

  it('grants a lock to one holder until it expires', async () => {
    const name = `l-${randomUUID()}`;
    if (store.kind === 'memory') {
      expect(await store.tryLock(name, 50)).toBe(true); // one gateway: always its own
      return;
    }
    expect(await store.tryLock(name, 100)).toBe(true);
    expect(await store.tryLock(name, 100)).toBe(false);
    await waitFor(() => store.tryLock(name, 100), { message: 'the lock to expire' });
  });
});
