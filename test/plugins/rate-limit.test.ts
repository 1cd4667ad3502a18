/**
 * The rate-limit plugin against a real redis-server and real upstreams: one
 * limit across gateway instances, fixed and sliding windows (driven by an
 * injected clock), the key kinds, the global chain's shared instance, the
 * RateLimit-* headers, and Redis outages (allow by default, deny when asked).
 */
import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keyPart } from '../../src/plugins/builtin/rate-limit/index.js';
import { fixedVerdict, slidingVerdict } from '../../src/plugins/builtin/rate-limit/windows.js';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { SKIP_NEEDS_LOCAL_REDIS, startRedis, type TestRedis } from '../helpers/redis.js';
import { recordingMetrics, send } from './helpers.js';

// Every test starts real gateways, upstreams and redis-servers: allow for a loaded machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

let redis: TestRedis;
let client: Redis;
let up: TestUpstream;
const open: TestGateway[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  up = await startUpstream('app');
});
afterAll(async () => {
  await Promise.all(open.map((g) => g.close()));
  client.disconnect();
  await up.close();
  if (!redis.external) await redis.stop();
});

/** BASE is an injected clock's epoch: a multiple of every window used here, far from real time so runs never share counters. */
const BASE = 1_700_000_040_000;

interface Setup {
  route?: Record<string, unknown>[];
  chain?: Record<string, unknown>[];
  routeId?: string;
  redisUrl?: string;
  now?: () => number;
  metrics?: ReturnType<typeof recordingMetrics>;
  extraRoutes?: Record<string, unknown>[];
}

/** gateway starts a gateway on the test Redis with the given chains on route `routeId` (path /*), waiting for Redis. */
async function gateway(s: Setup): Promise<TestGateway> {
  const url = s.redisUrl ?? redis.url;
  const gw = await startGateway({
    gateway: { redis: { url }, ...(s.chain ? { chain: s.chain } : {}) },
    routeFiles: {
      'app.yaml': {
        upstreams: { app: { targets: [{ url: up.url }] } },
        routes: [...(s.extraRoutes ?? []), { id: s.routeId ?? 'app', match: { path: '/*' }, upstream: 'app', ...(s.route ? { plugins: s.route } : {}) }],
      },
    },
    ...(s.now ? { now: s.now } : {}),
    ...(s.metrics ? { metrics: s.metrics } : {}),
  });
  open.push(gw);
  await waitFor(() => gw.gateway.readiness().redis, { message: 'gateway redis ready' });
  return gw;
}

describe('window arithmetic', () => {
  it('fixed: allows up to max per aligned window and resets at its end', () => {
    expect(fixedVerdict(3, 3, 1500, 1000)).toEqual({ allowed: true, remaining: 0, resetMs: 500 });
    expect(fixedVerdict(4, 3, 1999, 1000)).toEqual({ allowed: false, remaining: 0, resetMs: 1 });
  });

  it('sliding: weighs the previous window by its overlap and says when the next request would pass', () => {
    // Half-way through: previous 10 counts as 5.
    expect(slidingVerdict(4, 10, 10, 5000, 10_000)).toEqual({ allowed: true, remaining: 1, resetMs: 5000 });
    const limited = slidingVerdict(6, 10, 10, 5000, 10_000);
    expect(limited.allowed).toBe(false);
    // The 7th needs 10·(1 − t/10s) + 7 ≤ 10, i.e. t ≥ 7s: 2s from now.
    expect(limited.resetMs).toBeCloseTo(2000, 6);
    expect(slidingVerdict(7, 10, 10, 7000, 10_000).allowed).toBe(true);
    // Over max in this window alone: wait for the next window and this one's decay.
    const over = slidingVerdict(11, 0, 10, 0, 10_000);
    expect(over.allowed).toBe(false);
    expect(over.resetMs).toBeCloseTo(10_000 + 10_000 * (1 - 9 / 11), 6);
  });

  it('keys: short safe values as they are, anything else hashed', () => {
    expect(keyPart('ip:127.0.0.1')).toBe('ip:127.0.0.1');
    expect(keyPart('ip:::1')).toBe('ip:::1');
    expect(keyPart('h:' + 'a'.repeat(100))).toMatch(/^#[0-9a-f]{40}$/);
    expect(keyPart('h:a b*')).toMatch(/^#[0-9a-f]{40}$/);
    expect(keyPart('h:x\r\nDEL')).toMatch(/^#[0-9a-f]{40}$/);
  });
});

describe('rate-limit over Redis', () => {
  it('answers 429 past max with Retry-After and RateLimit-* headers (also on allowed responses), counting rate_limited', async () => {
    let now = BASE + 15_000;
    const metrics = recordingMetrics();
    const gw = await gateway({ routeId: 'fixed', route: [{ 'rate-limit': { max: 3, window: '1m' } }], now: () => now, metrics });
    const before = up.hits();
    for (let i = 0; i < 3; i++) {
      const r = await send(gw.url + '/x');
      expect(r.status).toBe(200);
      expect(r.headers['ratelimit-limit']).toBe('3');
      expect(r.headers['ratelimit-remaining']).toBe(String(2 - i));
      expect(r.headers['ratelimit-reset']).toBe('45');
    }
    const limited = await send(gw.url + '/x');
    expect(limited.status).toBe(429);
    expect(limited.json().error.code).toBe('SY_ERR_RATE_LIMITED');
    expect(limited.headers).toMatchObject({ 'retry-after': '45', 'ratelimit-limit': '3', 'ratelimit-remaining': '0', 'ratelimit-reset': '45' });
    expect(up.hits()).toBe(before + 3);
    expect(metrics.counts.filter((c) => c.name === 'rate_limited')).toEqual([{ name: 'rate_limited', labels: { plugin: 'rate-limit' } }]);
    // The counter key: route scope, aligned window start, raw IP.
    expect(await client.get(`sy:rl:fixed:${BASE}:ip:127.0.0.1`)).toBe('4');
    const ttl = await client.pttl(`sy:rl:fixed:${BASE}:ip:127.0.0.1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // The next window starts fresh.
    now = BASE + 60_000;
    const next = await send(gw.url + '/x');
    expect(next.status).toBe(200);
    expect(next.headers['ratelimit-remaining']).toBe('2');
  });

  it('is one limit for two gateway instances on the same Redis', async () => {
    const now = () => BASE + 1000;
    const setup = { routeId: 'shared', route: [{ 'rate-limit': { max: 4, window: '10s' } }], now };
    const [a, b] = [await gateway(setup), await gateway(setup)];
    const statuses: number[] = [];
    for (const gw of [a, b, a, b]) statuses.push((await send(gw.url + '/x')).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    for (const gw of [a, b]) {
      const r = await send(gw.url + '/x');
      expect(r.status).toBe(429);
      expect(r.headers).toMatchObject({ 'ratelimit-limit': '4', 'ratelimit-remaining': '0', 'retry-after': '9', 'ratelimit-reset': '9' });
    }
  });

  it('sliding window: the previous window still counts in proportion to its overlap', async () => {
    let now = BASE;
    const route = (algorithm: string) => [{ 'rate-limit': { max: 10, window: '10s', algorithm } }];
    const sliding = await gateway({ routeId: 'sliding', route: route('sliding'), now: () => now });
    const fixed = await gateway({ routeId: 'fixed-cmp', route: route('fixed'), now: () => now });
    for (const gw of [sliding, fixed]) {
      for (let i = 0; i < 10; i++) expect((await send(gw.url + '/x')).status).toBe(200);
      expect((await send(gw.url + '/x')).status).toBe(429); // 11 counted in the first window
    }
    now = BASE + 15_000; // half-way through the next window: the 11 of the first count as 5.5
    // Fixed starts from zero and allows 10 again.
    for (let i = 0; i < 10; i++) expect((await send(fixed.url + '/x')).status).toBe(200);
    // Sliding: 5.5 + count ≤ 10 allows 4.
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await send(sliding.url + '/x'));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    expect(replies.map((r) => r.headers['ratelimit-remaining'])).toEqual(['3', '2', '1', '0', '0']);
    // The 6th would pass once 11·(1 − t/10s) + 6 ≤ 10, t ≥ 6.37s: Retry-After says 2s.
    expect(replies[4]!.headers['retry-after']).toBe('2');
    now += 2000;
    expect((await send(sliding.url + '/x')).status).toBe(200);
    expect(await client.get(`sy:rl:sliding:${BASE + 10_000}:ip:127.0.0.1`)).toBe('6');
  });

  it('counts by header (long values hashed; requests without it counted by IP)', async () => {
    const now = () => BASE + 2000;
    const gw = await gateway({ routeId: 'by-header', route: [{ 'rate-limit': { max: 2, window: '10s', key: 'header:X-Api-Key' } }], now });
    const long = 'k'.repeat(200);
    const status = async (headers: Record<string, string>) => (await send(gw.url + '/x', { headers })).status;
    expect([await status({ 'x-api-key': 'team-a' }), await status({ 'x-api-key': 'team-a' }), await status({ 'x-api-key': 'team-a' })]).toEqual([200, 200, 429]);
    expect([await status({ 'x-api-key': long }), await status({ 'x-api-key': long }), await status({ 'x-api-key': long })]).toEqual([200, 200, 429]);
    expect([await status({}), await status({}), await status({})]).toEqual([200, 200, 429]);
    const keys = (await client.keys('sy:rl:by-header:*')).sort();
    expect(keys).toEqual([`sy:rl:by-header:${BASE}:#${createHash('sha1').update('h:' + long).digest('hex')}`, `sy:rl:by-header:${BASE}:h:team-a`, `sy:rl:by-header:${BASE}:ip:127.0.0.1`].sort());
  });

  it('counts by claim from a verified JWT or from the session', async () => {
    const now = () => BASE + 3000;
    const secret = 's'.repeat(32);
    const gw = await gateway({
      routeId: 'by-claim',
      route: [{ jwt: { algorithms: ['HS256'], secret, optional: true } }, 'session', { 'rate-limit': { max: 1, window: '10s', key: 'claim:sub' } }],
      now,
    });
    const token = (sub: string) => ({ authorization: `Bearer ${jwt.sign({ sub, exp: Math.floor(Date.now() / 1000) + 600 }, secret, { algorithm: 'HS256' })}` });
    const status = async (headers: Record<string, string>) => (await send(gw.url + '/x', { headers })).status;
    expect([await status(token('ann')), await status(token('ann')), await status(token('bob'))]).toEqual([200, 429, 200]);
    expect(await client.exists(`sy:rl:by-claim:${BASE}:c:ann`)).toBe(1);
    // A session's sub: sessions live in the same Redis, so one can be planted directly.
    const id = 'S'.repeat(43);
    await client.set(`sy:sess:${id}`, JSON.stringify({ createdAt: Date.now(), data: { sub: 'cat' } }), 'PX', 60_000);
    const cookie = { cookie: `sy_session=${id}` };
    expect([await status(cookie), await status(cookie)]).toEqual([200, 429]);
    expect(await client.exists(`sy:rl:by-claim:${BASE}:c:cat`)).toBe(1);
  });

  it('in the global chain is one instance shared by every route', async () => {
    const now = () => BASE + 4000;
    const gw = await gateway({
      chain: [{ 'rate-limit': { max: 3, window: '10s' } }],
      extraRoutes: [{ id: 'other', match: { path: '/other/*' }, upstream: 'app' }],
      routeId: 'main',
      now,
    });
    const statuses = [];
    for (const p of ['/a', '/other/b', '/c', '/other/d']) statuses.push((await send(gw.url + p)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await client.get(`sy:rl:global:${BASE}:ip:127.0.0.1`)).toBe('4');
  });

  it('routes with the same scope share one limit', async () => {
    const now = () => BASE + 5000;
    const rl = { 'rate-limit': { max: 2, window: '10s', scope: 'team' } };
    const gw = await gateway({ extraRoutes: [{ id: 'one', match: { path: '/one/*' }, upstream: 'app', plugins: [rl] }], routeId: 'two', route: [rl], now });
    const statuses = [];
    for (const p of ['/one/a', '/b', '/one/c']) statuses.push((await send(gw.url + p)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('leaves the RateLimit-* headers off allowed responses with headers: false', async () => {
    const gw = await gateway({ routeId: 'quiet', route: [{ 'rate-limit': { max: 1, window: '10s', headers: false } }], now: () => BASE + 6000 });
    const ok = await send(gw.url + '/x');
    expect(ok.headers['ratelimit-limit']).toBeUndefined();
    const limited = await send(gw.url + '/x');
    expect(limited.status).toBe(429);
    expect(limited.headers['ratelimit-limit']).toBe('1');
  });

  it('rejects invalid options at load', async () => {
    await expect(gateway({ route: [{ 'rate-limit': { max: 0 } }] })).rejects.toThrow(/max/);
    await expect(gateway({ route: [{ 'rate-limit': { max: 1, key: 'cookie:x' } }] })).rejects.toThrow(/key/);
    await expect(gateway({ route: [{ 'rate-limit': { max: 1, window: '10ms' } }] })).rejects.toThrow(/at least 1s/);
    await expect(gateway({ route: ['rate-limit'] })).rejects.toThrow(/max/);
  });
});

describe('rate-limit with Redis going away', () => {
  let own: TestRedis;
  beforeAll(async () => {
    own = await startRedis();
  });
  afterAll(async () => {
    if (!own.external) await own.stop();
  });

  it('lets requests through uncounted (allow, the default) or answers 503 (deny), and counts again once Redis is back', async (ctx) => {
    if (own.external) ctx.skip(SKIP_NEEDS_LOCAL_REDIS);
    const allow = await gateway({ routeId: 'outage-allow', route: [{ 'rate-limit': { max: 1000, window: '1m' } }], redisUrl: own.url });
    const deny = await gateway({ routeId: 'outage-deny', route: [{ 'rate-limit': { max: 1000, window: '1m', onStoreError: 'deny' } }], redisUrl: own.url });
    expect((await send(allow.url + '/x')).headers['ratelimit-limit']).toBe('1000');

    await own.stop();
    await waitFor(() => !allow.gateway.readiness().redis && !deny.gateway.readiness().redis, { timeout: 10_000, message: 'gateways to notice Redis is gone' });
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await send(allow.url + '/x');
      expect(r.status).toBe(200);
      expect(r.headers['ratelimit-limit']).toBeUndefined();
      expect(performance.now() - t0).toBeLessThan(2000); // fails fast, no waiting on Redis
      const d = await send(deny.url + '/x');
      expect(d.status).toBe(503);
      expect(d.json().error.code).toBe('SY_ERR_STORE_UNAVAILABLE');
    }

    await own.restart(); // same port, empty
    await waitFor(async () => (await send(allow.url + '/x')).headers['ratelimit-limit'] === '1000', { timeout: 15_000, message: 'allow gateway to count again' });
    await waitFor(async () => (await send(deny.url + '/x')).status === 200, { timeout: 15_000, message: 'deny gateway to recover' });
  });
});
