/**
 * The session plugin against a real redis-server and real upstreams: the
 * upstream starts, updates and ends sessions with X-Session-* response
 * headers; the cookie carries only a random id; ids are never taken from
 * clients; malformed ids never reach Redis; identity headers cannot be
 * spoofed; and a Redis outage is answered as configured, then recovered from.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream, type UpstreamHandler } from '../../src/testing/index.js';
import { SKIP_NEEDS_LOCAL_REDIS, startRedis, type TestRedis } from '../helpers/redis.js';
import { rawHeaderValues, send, type Reply } from './helpers.js';
import { captureLog } from '../helpers/log-capture.js';

// Every test starts real gateways, upstreams and redis-servers: allow for a loaded machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

/** app is the upstream: /login?sub=x starts a session, /set?json=... merges, /logout clears, /rotate does both, anything else echoes. */
const app: UpstreamHandler = (req, res) => {
  const url = new URL(req.url!, 'http://x');
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  if (url.pathname === '/login') headers['x-session-set'] = JSON.stringify({ sub: url.searchParams.get('sub') ?? 'alice' });
  if (url.pathname === '/set') headers['x-session-set'] = url.searchParams.get('json')!;
  if (url.pathname === '/logout') headers['x-session-clear'] = '1';
  if (url.pathname === '/rotate') {
    headers['x-session-clear'] = '1';
    headers['x-session-set'] = JSON.stringify({ sub: 'root' });
  }
  if (url.pathname === '/raw-set') headers['x-session-set'] = Buffer.from(url.searchParams.get('json')!, 'utf8').toString('latin1');
  if (url.pathname === '/big') headers['x-session-set'] = JSON.stringify({ sub: 'big', pad: 'x'.repeat(2048) });
  if (url.pathname === '/cookies') headers['set-cookie'] = ['sy_session=attacker-chosen; Path=/', 'theme=dark; Path=/', 'SY_SESSION=x'];
  const out = JSON.stringify({ url: req.url, headers: req.headers, raw: req.rawHeaders });
  res.writeHead(200, headers).end(out);
};

/** cookieOf returns the sy_session Set-Cookie line of a reply (undefined when none). */
function cookieOf(r: Reply, name = 'sy_session'): string | undefined {
  const v = r.headers['set-cookie'];
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return list.find((c) => c.startsWith(`${name}=`));
}

/** idOf extracts the session id a reply set. */
function idOf(r: Reply): string {
  const c = cookieOf(r);
  if (!c) throw new Error(`no session cookie in reply (status ${r.status})`);
  return c.slice('sy_session='.length, c.indexOf(';'));
}

let redis: TestRedis;
let client: Redis;
let up: TestUpstream;
const open: TestGateway[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  up = await startUpstream('app', app);
});
afterAll(async () => {
  await Promise.all(open.map((g) => g.close()));
  client.disconnect();
  await up.close();
  if (!redis.external) await redis.stop();
});

/** gateway starts a gateway with a session plugin on /* (options given) on `redisUrl`, waiting for Redis to be ready. */
async function gateway(options: Record<string, unknown> = {}, extra: { redisUrl?: string | null; now?: () => number; logger?: pino.Logger; upstreamUrl?: string } = {}): Promise<TestGateway> {
  const url = extra.redisUrl === undefined ? redis.url : extra.redisUrl;
  const gw = await startGateway({
    gateway: url === null ? {} : { redis: { url } },
    routeFiles: {
      'app.yaml': {
        upstreams: { app: { targets: [{ url: extra.upstreamUrl ?? up.url }] } },
        routes: [{ id: 'app', match: { path: '/*' }, upstream: 'app', plugins: [{ session: options }] }],
      },
    },
    ...(extra.now ? { now: extra.now } : {}),
    ...(extra.logger ? { logger: extra.logger } : {}),
  });
  open.push(gw);
  if (url !== null) await waitFor(() => gw.gateway.readiness().redis, { message: 'gateway redis ready' });
  return gw;
}

const withCookie = (id: string, headers: Record<string, string> = {}) => ({ headers: { cookie: `sy_session=${id}`, ...headers } });

describe('session lifecycle', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway();
  });

  it('is created by an upstream X-Session-Set: the cookie holds a fresh 256-bit id only, data lives in Redis', async () => {
    const r = await send(gw.url + '/login?sub=alice');
    expect(r.status).toBe(200);
    const cookie = cookieOf(r)!;
    expect(cookie).toMatch(/^sy_session=[A-Za-z0-9_-]{43}; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(r.headers['x-session-set']).toBeUndefined();
    expect(r.headers['cache-control']).toBe('no-store');
    const id = idOf(r);
    const stored = JSON.parse((await client.get(`sy:sess:${id}`))!);
    expect(stored.data).toEqual({ sub: 'alice' });
    expect(typeof stored.createdAt).toBe('number');
    const ttl = await client.pttl(`sy:sess:${id}`);
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    expect(cookie).not.toContain('alice');
  });

  it('is used on later requests: the upstream sees X-Session-Id and the sub as X-User-Id', async () => {
    const id = idOf(await send(gw.url + '/login?sub=bob'));
    const r = await send(gw.url + '/profile', withCookie(id));
    expect(r.json().headers['x-session-id']).toBe(id);
    expect(r.json().headers['x-user-id']).toBe('bob');
    expect(cookieOf(r)).toBeUndefined(); // an existing session needs no new cookie
  });

  it('merges later X-Session-Set values into the same session (null removes a field) without a new cookie', async () => {
    const id = idOf(await send(gw.url + '/login?sub=carol'));
    const r1 = await send(gw.url + '/set?json=' + encodeURIComponent(JSON.stringify({ role: 'admin', tmp: 1 })), withCookie(id));
    expect(cookieOf(r1)).toBeUndefined();
    await send(gw.url + '/set?json=' + encodeURIComponent(JSON.stringify({ tmp: null })), withCookie(id));
    expect(JSON.parse((await client.get(`sy:sess:${id}`))!).data).toEqual({ sub: 'carol', role: 'admin' });
    expect((await send(gw.url + '/x', withCookie(id))).json().headers['x-user-id']).toBe('carol');
  });

  it('forwards non-ASCII fields as UTF-8 bytes', async () => {
    const id = idOf(await send(gw.url + '/raw-set?json=' + encodeURIComponent(JSON.stringify({ sub: 'zoë' }))));
    const r = await send(gw.url + '/x', withCookie(id));
    const raw = rawHeaderValues(r.json().raw, 'x-user-id');
    expect(raw.map((v) => Buffer.from(v, 'latin1').toString('utf8'))).toEqual(['zoë']);
  });

  it('slides the idle TTL on each request', async () => {
    const id = idOf(await send(gw.url + '/login'));
    await client.pexpire(`sy:sess:${id}`, 5000);
    expect(await client.pttl(`sy:sess:${id}`)).toBeLessThanOrEqual(5000);
    await send(gw.url + '/x', withCookie(id));
    await waitFor(async () => (await client.pttl(`sy:sess:${id}`)) > 29 * 60_000, { message: 'TTL refreshed to the idle timeout' });
  });

  it('survives a gateway restart (a new gateway on the same Redis knows it)', async () => {
    const first = await gateway();
    const id = idOf(await send(first.url + '/login?sub=dave'));
    await first.close();
    const second = await gateway();
    const r = await send(second.url + '/x', withCookie(id));
    expect(r.json().headers['x-user-id']).toBe('dave');
    expect(r.json().headers['x-session-id']).toBe(id);
  });

  it('is ended by X-Session-Clear: key deleted, cookie expired, the old id no longer works', async () => {
    const id = idOf(await send(gw.url + '/login?sub=erin'));
    const r = await send(gw.url + '/logout', withCookie(id));
    expect(cookieOf(r)).toBe('sy_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
    expect(r.headers['x-session-clear']).toBeUndefined();
    expect(await client.exists(`sy:sess:${id}`)).toBe(0);
    const after = await send(gw.url + '/x', withCookie(id));
    expect(after.json().headers['x-user-id']).toBeUndefined();
    expect(after.json().headers['x-session-id']).toBeUndefined();
    expect(cookieOf(after)).toBe('sy_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax'); // a dead cookie is expired
  });

  it('rotates on X-Session-Clear plus X-Session-Set: a new id with only the new data', async () => {
    const id = idOf(await send(gw.url + '/login?sub=frank'));
    await send(gw.url + '/set?json=' + encodeURIComponent('{"cart":3}'), withCookie(id));
    const r = await send(gw.url + '/rotate', withCookie(id));
    const fresh = idOf(r);
    expect(fresh).not.toBe(id);
    expect(await client.exists(`sy:sess:${id}`)).toBe(0);
    expect(JSON.parse((await client.get(`sy:sess:${fresh}`))!).data).toEqual({ sub: 'root' });
  });
});

describe('session security', () => {
  let gw: TestGateway;
  let logs: ReturnType<typeof captureLog>;
  beforeAll(async () => {
    logs = captureLog('debug');
    gw = await gateway({ maxSize: 1024 }, { logger: logs.logger });
  });

  it('never adopts a client-chosen id (session fixation): a planted unknown id gets replaced by a fresh one', async () => {
    const planted = 'A'.repeat(43);
    const r = await send(gw.url + '/login?sub=victim', withCookie(planted));
    const id = idOf(r);
    expect(id).not.toBe(planted);
    expect(await client.exists(`sy:sess:${planted}`)).toBe(0);
    expect(JSON.parse((await client.get(`sy:sess:${id}`))!).data).toEqual({ sub: 'victim' });
    // The planted id still means nothing.
    expect((await send(gw.url + '/x', withCookie(planted))).json().headers['x-user-id']).toBeUndefined();
  });

  it('never lets malformed or oversized ids reach Redis (MONITOR sees none), and expires them', async () => {
    const monitor = await client.duplicate().monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args.join(' ')));
    try {
      const valid = 'B'.repeat(43);
      const forged = ['x'.repeat(5000), 'C'.repeat(42), 'D'.repeat(44), 'E'.repeat(42) + '=', 'sy:sess:*', '*', 'F'.repeat(41) + '..', 'G'.repeat(42) + '%', 'H'.repeat(42) + '$'];
      for (const f of forged) {
        const r = await send(gw.url + '/x', withCookie(f));
        expect(r.status).toBe(200);
        expect(r.json().headers['x-session-id']).toBeUndefined();
        expect(cookieOf(r)).toBe('sy_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
      }
      // A well-formed unknown id is looked up: this proves the monitor sees the gateway's commands.
      await send(gw.url + '/x', withCookie(valid));
      await waitFor(() => seen.some((s) => s.includes(valid)), { message: 'the monitor to see the lookup of a well-formed id' });
      for (const f of forged) expect(seen.filter((s) => s.includes(f))).toEqual([]);
      expect(seen.filter((s) => s.startsWith('get ') || s.startsWith('GET ')).every((s) => /^get sy:sess:[A-Za-z0-9_-]{43}$/i.test(s))).toBe(true);
    } finally {
      monitor.disconnect();
    }
  });

  it('strips spoofed X-User-Id and X-Session-Id from clients, with and without a session', async () => {
    const anon = await send(gw.url + '/x', { headers: { 'x-user-id': 'admin', 'x-session-id': 'A'.repeat(43) } });
    expect(anon.json().headers['x-user-id']).toBeUndefined();
    expect(anon.json().headers['x-session-id']).toBeUndefined();
    const id = idOf(await send(gw.url + '/login?sub=gina'));
    const r = await send(gw.url + '/x', withCookie(id, { 'x-user-id': 'admin' }));
    expect(rawHeaderValues(r.json().raw, 'x-user-id')).toEqual(['gina']);
  });

  it('drops Set-Cookie lines naming the session cookie from upstream responses, keeping others', async () => {
    const r = await send(gw.url + '/cookies');
    const list = [r.headers['set-cookie'] ?? []].flat();
    expect(list).toEqual(['theme=dark; Path=/']);
  });

  it('ignores (and logs) an X-Session-Set over maxSize or one that is not a JSON object', async () => {
    const big = await send(gw.url + '/big');
    expect(cookieOf(big)).toBeUndefined();
    expect(big.headers['x-session-set']).toBeUndefined();
    expect(logs.lines.some((l) => l.msg === 'ignored X-Session-Set: too large')).toBe(true);
    for (const [json, msg] of [['{nope', 'not valid JSON'], ['[1,2]', 'not a JSON object'], ['"sub"', 'not a JSON object']] as const) {
      const r = await send(gw.url + '/set?json=' + encodeURIComponent(json));
      expect(r.status).toBe(200);
      expect(cookieOf(r)).toBeUndefined();
      expect(logs.lines.some((l) => l.msg === `ignored X-Session-Set: ${msg}`)).toBe(true);
    }
  });
});

describe('session options', () => {
  it('required: true answers 401 without a valid session and passes with one', async () => {
    const starter = await gateway();
    const gw = await startGateway({
      gateway: { redis: { url: redis.url } },
      routeFiles: {
        'app.yaml': {
          upstreams: { app: { targets: [{ url: up.url }] } },
          routes: [
            { id: 'login', match: { path: '/login' }, upstream: 'app', plugins: ['session'] },
            { id: 'private', match: { path: '/private/*' }, upstream: 'app', plugins: [{ session: { required: true } }] },
          ],
        },
      },
    });
    try {
      await waitFor(() => gw.gateway.readiness().redis, { message: 'redis ready' });
      const before = up.hits();
      const denied = await send(gw.url + '/private/data');
      expect(denied.status).toBe(401);
      expect(denied.json().error.code).toBe('SY_ERR_AUTH_REQUIRED');
      expect((await send(gw.url + '/private/data', withCookie('Z'.repeat(43)))).status).toBe(401);
      expect(up.hits()).toBe(before);
      const id = idOf(await send(starter.url + '/login?sub=hank'));
      const ok = await send(gw.url + '/private/data', withCookie(id));
      expect(ok.status).toBe(200);
      expect(ok.json().headers['x-user-id']).toBe('hank');
    } finally {
      await gw.close();
    }
  });

  it('uses the configured cookie name, forward mapping and Secure flag', async () => {
    const gw = await gateway({ cookie: 'app_sid', forward: { sub: 'x-account', tenant: 'x-tenant' }, secure: true });
    const r = await send(gw.url + '/set?json=' + encodeURIComponent('{"sub":"ivy","tenant":"acme","nested":{"a":1}}'));
    const line = cookieOf(r, 'app_sid')!;
    expect(line).toMatch(/^app_sid=[A-Za-z0-9_-]{43}; .*; Secure$/);
    const id = line.slice('app_sid='.length, line.indexOf(';'));
    const seen = (await send(gw.url + '/x', { headers: { cookie: `app_sid=${id}`, 'x-tenant': 'evil' } })).json().headers;
    expect(seen).toMatchObject({ 'x-account': 'ivy', 'x-tenant': 'acme', 'x-session-id': id });
    expect(seen['x-user-id']).toBeUndefined();
  });

  it('ends a session at its absolute lifetime, however active (injected clock)', async () => {
    let now = Date.now();
    const gw = await gateway({ absoluteTimeout: '1h', idleTimeout: '30m' }, { now: () => now });
    const id = idOf(await send(gw.url + '/login?sub=jack'));
    now += 59 * 60_000;
    expect((await send(gw.url + '/x', withCookie(id))).json().headers['x-user-id']).toBe('jack');
    now += 60_001;
    const r = await send(gw.url + '/x', withCookie(id));
    expect(r.json().headers['x-user-id']).toBeUndefined();
    expect(cookieOf(r)).toMatch(/Max-Age=0/);
    await waitFor(async () => (await client.exists(`sy:sess:${id}`)) === 0, { message: 'the expired session to be deleted' });
  });

  it('expires after the idle timeout', async () => {
    const gw = await gateway({ idleTimeout: '1s', absoluteTimeout: '1h' });
    const id = idOf(await send(gw.url + '/login?sub=kim'));
    expect((await client.pttl(`sy:sess:${id}`))).toBeLessThanOrEqual(1000);
    await waitFor(async () => (await client.exists(`sy:sess:${id}`)) === 0, { message: 'the idle session to expire in Redis' });
    expect((await send(gw.url + '/x', withCookie(id))).json().headers['x-user-id']).toBeUndefined();
  });

  it('works with the embedded store when no Redis is configured', async () => {
    const gw = await gateway({}, { redisUrl: null });
    const id = idOf(await send(gw.url + '/login?sub=lee'));
    expect((await send(gw.url + '/x', withCookie(id))).json().headers['x-user-id']).toBe('lee');
  });

  it('rejects invalid options at load', async () => {
    await expect(gateway({ forward: { sub: 'host' } })).rejects.toThrow(/set by the gateway itself/);
    await expect(gateway({ idleTimeout: '2h', absoluteTimeout: '1h' })).rejects.toThrow(/absoluteTimeout/);
    await expect(gateway({ cookie: 'bad name' })).rejects.toThrow(/cookie/);
  });
});

describe('session with Redis going away', () => {
  let own: TestRedis;
  beforeAll(async () => {
    own = await startRedis();
  });
  afterAll(async () => {
    if (!own.external) await own.stop();
  });

  it('denies with 503 (onStoreError: deny), lets through without a session (allow), and recovers after Redis restarts', async (ctx) => {
    if (own.external) ctx.skip(SKIP_NEEDS_LOCAL_REDIS);
    const deny = await gateway({}, { redisUrl: own.url });
    const allow = await gateway({ onStoreError: 'allow' }, { redisUrl: own.url });
    const id = idOf(await send(deny.url + '/login?sub=max'));
    expect((await send(allow.url + '/x', withCookie(id))).json().headers['x-user-id']).toBe('max');

    await own.stop();
    await waitFor(() => !deny.gateway.readiness().redis && !allow.gateway.readiness().redis, { message: 'gateways to notice Redis is gone' });
    const t0 = performance.now();
    const denied = await send(deny.url + '/x', withCookie(id));
    expect(denied.status).toBe(503);
    expect(denied.json().error.code).toBe('SY_ERR_STORE_UNAVAILABLE');
    expect(denied.headers['retry-after']).toBe('5');
    expect(performance.now() - t0).toBeLessThan(1000); // fails fast
    const allowed = await send(allow.url + '/x', withCookie(id));
    expect(allowed.status).toBe(200);
    expect(allowed.json().headers['x-user-id']).toBeUndefined();
    expect(cookieOf(allowed)).toBeUndefined(); // a session that could not be read is not declared dead
    // Without a cookie nothing touches the store: such requests pass either way.
    expect((await send(deny.url + '/x')).status).toBe(200);
    // An upstream starting a session while the store is down: no cookie pointing at nothing.
    const login = await send(allow.url + '/login?sub=ned');
    expect(login.status).toBe(200);
    expect(cookieOf(login)).toBeUndefined();

    await own.restart(); // same port, empty
    await waitFor(async () => (await send(deny.url + '/x', withCookie(id))).status === 200, { timeout: 10_000, message: 'deny gateway to recover' });
    const fresh = idOf(await send(deny.url + '/login?sub=olga'));
    expect((await send(allow.url + '/x', withCookie(fresh))).json().headers['x-user-id']).toBe('olga');
  });
});
