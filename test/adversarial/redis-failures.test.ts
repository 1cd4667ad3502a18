/**
 * Failing Redis. The gateway reaches Redis through a pausable TCP proxy, so a
 * test can kill Redis, restart it empty, or freeze the network to it. Public
 * routes never notice; routes whose plugins need the store (session,
 * rate-limit) fail fast with their documented answer (session: 503
 * SY_ERR_STORE_UNAVAILABLE + Retry-After; rate-limit: let through by default,
 * 503 with onStoreError: deny), never waiting in a client-side queue; and
 * everything recovers by itself when Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { echoHandler, startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { freePort, startTcpProxy, type TcpProxy } from './helpers.js';

let redis: TestRedis;
let proxy: TcpProxy;
let app: TestUpstream;

/** routes: a public route, a session-required route, and rate-limited routes failing open and closed. */
function routeFiles(url: string) {
  return {
    'r.yaml': {
      upstreams: { app: { targets: [{ url }] } },
      routes: [
        { id: 'public', match: { path: '/public/*' }, upstream: 'app' },
        { id: 'login', match: { path: '/login' }, upstream: 'app', plugins: ['session'] },
        { id: 'account', match: { path: '/account/*' }, upstream: 'app', plugins: [{ session: { required: true } }] },
        { id: 'open-limit', match: { path: '/open-limit/*' }, upstream: 'app', plugins: [{ 'rate-limit': { max: 100000 } }] },
        { id: 'strict-limit', match: { path: '/strict-limit/*' }, upstream: 'app', plugins: [{ 'rate-limit': { max: 100000, onStoreError: 'deny' } }] },
      ],
    },
  };
}

beforeAll(async () => {
  redis = await startRedis();
  if (redis.external) throw new Error('these tests stop and restart Redis: unset REDIS_URL to run them against a throwaway redis-server');
  proxy = await startTcpProxy(redis.port);
  app = await startUpstream('app', (req, res, body, self) => {
    if (req.url === '/login') {
      res.writeHead(200, { 'x-session-set': JSON.stringify({ sub: 'u1' }), 'content-length': 2 }).end('ok');
      return;
    }
    echoHandler(req, res, body, self);
  });
});
afterAll(async () => {
  await proxy?.close();
  await app?.close();
  await redis?.stop();
});

interface Sent {
  status: number;
  ms: number;
  code: string | undefined;
  retryAfter: string | undefined;
  cookie: string | undefined;
}

async function send(gw: TestGateway, path: string, cookie?: string): Promise<Sent> {
  const t0 = performance.now();
  const res = await request(gw.url + path, { headers: cookie ? { cookie } : {}, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text)?.error?.code;
  } catch {
    code = undefined;
  }
  const set = res.headers['set-cookie'];
  const first = Array.isArray(set) ? set[0] : set;
  return { status: res.statusCode, ms: performance.now() - t0, code, retryAfter: res.headers['retry-after'] as string | undefined, cookie: first?.split(';')[0] };
}

async function login(gw: TestGateway): Promise<string> {
  const r = await send(gw, '/login');
  expect(r.status).toBe(200);
  expect(r.cookie).toMatch(/^sy_session=[A-Za-z0-9_-]{43}$/);
  return r.cookie!;
}

/** storeDown checks the documented answers while the store cannot be reached. */
async function expectStoreDown(gw: TestGateway, cookie: string): Promise<void> {
  const pub = await send(gw, '/public/x');
  expect(pub.status).toBe(200);
  const acc = await send(gw, '/account/x', cookie);
  expect(acc.status).toBe(503);
  expect(acc.code).toBe('SY_ERR_STORE_UNAVAILABLE');
  expect(acc.retryAfter).toBe('5');
  expect(acc.ms).toBeLessThan(1500);
  // Without a cookie the session plugin needs nothing from the store.
  expect((await send(gw, '/account/x')).status).toBe(401);
  const open = await send(gw, '/open-limit/x');
  expect(open.status).toBe(200);
  expect(open.ms).toBeLessThan(1500);
  const strict = await send(gw, '/strict-limit/x');
  expect(strict.status).toBe(503);
  expect(strict.ms).toBeLessThan(1500);
}

describe('Redis absent at start', () => {
  it('starts, serves public routes, fails store routes fast, and picks Redis up when it appears', async () => {
    // Redis is not there yet: the proxy forwards to a closed port until it is pointed at the real server.
    const late = await startTcpProxy(await freePort());
    const t0 = performance.now();
    const gw = await startGateway({ gateway: { redis: { url: `redis://127.0.0.1:${late.port}` } }, routeFiles: routeFiles(app.url) });
    try {
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(gw.gateway.readiness().redis).toBe(false);
      await expectStoreDown(gw, 'sy_session=' + 'a'.repeat(43));
      // A login while the store is down sets no cookie that points at nothing.
      const r = await send(gw, '/login');
      expect(r.status).toBe(200);
      expect(r.cookie).toBeUndefined();

      late.retarget(redis.port);
      await waitFor(() => gw.gateway.readiness().redis, { timeout: 10_000, message: 'gateway connected once Redis appeared' });
      const cookie = await login(gw);
      expect((await send(gw, '/account/x', cookie)).status).toBe(200);
      expect((await send(gw, '/strict-limit/x')).status).toBe(200);
    } finally {
      await gw.close();
      await late.close();
    }
  });
});

describe('Redis failing under a running gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ gateway: { redis: { url: `redis://127.0.0.1:${proxy.port}` } }, routeFiles: routeFiles(app.url) });
    await waitFor(() => gw.gateway.readiness().redis, { message: 'gateway connected to Redis' });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('killed under load: public traffic never fails, session traffic fails fast, and both recover after a restart (empty)', async () => {
    const cookie = await login(gw);
    expect((await send(gw, '/account/x', cookie)).status).toBe(200);

    const results: Array<Sent & { kind: 'public' | 'account'; phase: string }> = [];
    let phase = 'up';
    let running = true;
    const worker = async (kind: 'public' | 'account') => {
      while (running) {
        const startedIn = phase;
        const r = await send(gw, kind === 'public' ? '/public/x' : '/account/x', kind === 'account' ? cookie : undefined);
        results.push({ ...r, kind, phase: startedIn });
      }
    };
    const workers = [...Array.from({ length: 8 }, () => worker('public')), ...Array.from({ length: 8 }, () => worker('account'))];
    await waitFor(() => results.length > 200, { timeout: 10_000, message: 'traffic before the kill' });
    phase = 'killing';
    await redis.stop();
    phase = 'down';
    await waitFor(() => results.filter((r) => r.phase === 'down' && r.kind === 'account').length > 100, { timeout: 10_000, message: 'traffic while Redis is down' });
    running = false;
    await Promise.all(workers);

    const pub = results.filter((r) => r.kind === 'public');
    expect(pub.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...pub.map((r) => r.ms))).toBeLessThan(1000);
    const acc = results.filter((r) => r.kind === 'account');
    expect(new Set(acc.map((r) => r.status))).toEqual(new Set([200, 503]));
    expect(acc.filter((r) => r.status === 503).every((r) => r.code === 'SY_ERR_STORE_UNAVAILABLE')).toBe(true);
    // Fail fast: nothing waits on a dead Redis longer than the command timeout and a retry.
    expect(Math.max(...acc.map((r) => r.ms))).toBeLessThan(1500);
    expect(results.filter((r) => r.phase === 'down' && r.kind === 'account').every((r) => r.status === 503)).toBe(true);
    await waitFor(() => !gw.gateway.readiness().redis, { message: 'readiness to report Redis down' });
    await expectStoreDown(gw, cookie);

    // Back, but empty: the old session is gone (401, cookie expired), a new login works, no restart of the gateway needed.
    await redis.restart();
    await waitFor(() => gw.gateway.readiness().redis, { timeout: 10_000, message: 'gateway reconnected to Redis' });
    await waitFor(async () => (await send(gw, '/account/x', cookie)).status === 401, { timeout: 10_000, message: 'old session known to be gone' });
    const fresh = await login(gw);
    expect((await send(gw, '/account/x', fresh)).status).toBe(200);
    expect((await send(gw, '/strict-limit/x')).status).toBe(200);
  }, 60_000);

  it('slow (the network to Redis stalls): store routes answer within the command timeout, public routes are untouched, then recover', async () => {
    await waitFor(() => gw.gateway.readiness().redis, { timeout: 10_000, message: 'gateway connected to Redis' });
    const cookie = await login(gw);
    proxy.pause();
    try {
      const [acc, pub, strict] = await Promise.all([send(gw, '/account/x', cookie), send(gw, '/public/x'), send(gw, '/strict-limit/x')]);
      expect(pub.status).toBe(200);
      expect(pub.ms).toBeLessThan(500);
      expect(acc.status).toBe(503);
      expect(acc.code).toBe('SY_ERR_STORE_UNAVAILABLE');
      expect(acc.ms).toBeLessThan(2500);
      expect(strict.status).toBe(503);
      expect(strict.ms).toBeLessThan(2500);
      // Many requests at once while it stalls: none waits longer, none piles up.
      const burst = await Promise.all(Array.from({ length: 50 }, () => send(gw, '/account/x', cookie)));
      expect(burst.every((r) => r.status === 503)).toBe(true);
      expect(Math.max(...burst.map((r) => r.ms))).toBeLessThan(2500);
    } finally {
      proxy.resume();
    }
    await waitFor(async () => (await send(gw, '/account/x', cookie)).status === 200, { timeout: 10_000, message: 'session route recovered' });
  }, 30_000);
});
