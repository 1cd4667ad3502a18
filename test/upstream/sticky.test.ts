/**
 * Sticky routing by signed cookie, end to end over real upstreams: a client
 * keeps its target while that target is eligible, is moved (and re-pinned)
 * when it dies or drains, and no cookie — tampered, expired, from another
 * upstream, another secret or another target order — can steer a request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Sticky, stickySecret } from '../../src/upstream/sticky.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { send, type Reply } from '../plugins/helpers.js';
import { portIn } from '../helpers/ports.js';

// Every test starts real gateways and upstreams: allow for a loaded machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

const SECRET = 'a-shared-sticky-secret-for-tests';

let ups: TestUpstream[];
const open: TestGateway[] = [];
beforeAll(async () => {
  ups = await Promise.all(['a', 'b', 'c'].map((n) => startUpstream(n)));
});
afterAll(async () => {
  await Promise.all(open.map((g) => g.close()));
  await Promise.all(ups.map((u) => u.close()));
});

/** gateway starts a gateway with sticky pools `app` (/app/*) and `other` (/other/*) over `targets` (default a, b, c). */
async function gateway(opts: { targets?: TestUpstream[]; secret?: string | null; now?: () => number; ttl?: string } = {}): Promise<TestGateway> {
  const targets = (opts.targets ?? ups).map((u) => ({ url: u.url }));
  const sticky = { cookie: 'sy_sticky', ttl: opts.ttl ?? '1h' };
  const gw = await startGateway({
    gateway: opts.secret === null ? {} : { stickySecret: opts.secret ?? SECRET },
    routeFiles: {
      'app.yaml': {
        upstreams: { app: { targets, sticky }, other: { targets, sticky } },
        routes: [
          { id: 'app', match: { path: '/app/*' }, upstream: 'app' },
          { id: 'other', match: { path: '/other/*' }, upstream: 'other' },
        ],
      },
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
  open.push(gw);
  return gw;
}

/** stickyOf returns the sticky cookie's value a reply sets (undefined when none). */
function stickyOf(r: Reply): string | undefined {
  const list = [r.headers['set-cookie'] ?? []].flat();
  const line = list.find((c) => c.startsWith('sy_sticky='));
  return line?.slice('sy_sticky='.length, line.indexOf(';'));
}

/** hit sends one request and returns which upstream served it and the cookie it set. */
async function hit(gw: TestGateway, path: string, cookie?: string): Promise<{ upstream: string; cookie: string | undefined; reply: Reply }> {
  const reply = await send(gw.url + path, cookie === undefined ? {} : { headers: { cookie: `sy_sticky=${cookie}` } });
  expect(reply.status).toBe(200);
  return { upstream: reply.json().upstream, cookie: stickyOf(reply), reply };
}

/** pinned returns a cookie pinning the client to upstream `name` in `gw` (asks until the balancer gives that target). */
async function pinned(gw: TestGateway, name: string, path = '/app/x'): Promise<string> {
  for (let i = 0; i < 10; i++) {
    const h = await hit(gw, path);
    if (h.upstream === name) return h.cookie!;
  }
  throw new Error(`never balanced to ${name}`);
}

describe('sticky cookie', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway();
  });

  it('is issued on the first response: opaque, signed, HttpOnly, with the configured lifetime', async () => {
    const first = await hit(gw, '/app/x');
    const line = [first.reply.headers['set-cookie']].flat().find((c) => c?.startsWith('sy_sticky='))!;
    expect(line).toMatch(/^sy_sticky=\d+\.[A-Za-z0-9_-]{11}\.[0-9a-z]+\.[A-Za-z0-9_-]{22}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/);
    for (const u of ups) {
      expect(line).not.toMatch(portIn(u.port));
      expect(line).not.toContain('127.0.0.1');
    }
  });

  it('is honoured: every request with it goes to the same target, without re-issuing it', async () => {
    for (const name of ['a', 'b', 'c']) {
      const cookie = await pinned(gw, name);
      for (let i = 0; i < 6; i++) {
        const h = await hit(gw, '/app/x', cookie);
        expect(h.upstream).toBe(name);
        expect(h.cookie).toBeUndefined();
      }
    }
  });

  it('is ignored when tampered with: the balancer picks and a fresh cookie is issued', async () => {
    const toC = await pinned(gw, 'c');
    const toA = await pinned(gw, 'a');
    const [, tagC] = toC.split('.');
    const [indexA, tagA, expA, macA] = toA.split('.') as [string, string, string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const forged = [
      `2.${tagA}.${expA}.${macA}`, // another index under a's signature
      `${indexA}.${tagC}.${expA}.${macA}`, // c's tag under a's signature
      `${indexA}.${tagA}.${(Number.parseInt(expA, 36) + 3600).toString(36)}.${macA}`, // extended expiry
      `${indexA}.${tagA}.${expA}.${flip(macA, 3)}`, // altered signature
      toA + 'x',
      `${indexA}.${tagA}.${expA}.${macA}.${macA}`,
      '127.0.0.1:' + ups[2]!.port,
      ups[2]!.url,
    ];
    for (const f of forged) {
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const h = await hit(gw, '/app/x', f);
        expect(h.cookie).toBeDefined(); // ignored, so re-issued
        seen.add(h.upstream);
      }
      expect(seen.size).toBe(3); // round robin as if there were no cookie
    }
  });

  it('from another upstream is ignored, even over the same targets and cookie name', async () => {
    const cookie = await pinned(gw, 'b');
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const h = await hit(gw, '/other/x', cookie);
      expect(h.cookie).toBeDefined();
      seen.add(h.upstream);
    }
    expect(seen.size).toBe(3);
  });

  it('moves the client when its target drains, and pins it to the new one', async () => {
    const cookie = await pinned(gw, 'b');
    const pool = gw.gateway.runtime.upstreams.get('app')!;
    const b = pool.targets.find((t) => t.id === ups[1]!.url)!;
    pool.setDraining(b, true);
    try {
      const moved = await hit(gw, '/app/x', cookie);
      expect(moved.upstream).not.toBe('b');
      expect(moved.cookie).toBeDefined();
      for (let i = 0; i < 4; i++) expect((await hit(gw, '/app/x', moved.cookie)).upstream).toBe(moved.upstream);
    } finally {
      pool.setDraining(b, false);
    }
    // Back in the rotation, the old cookie names an eligible target again.
    expect((await hit(gw, '/app/x', cookie)).upstream).toBe('b');
  });
});

describe('sticky routing when a target dies', () => {
  it('re-issues the cookie for the target that answered instead', async () => {
    const victim = await startUpstream('victim');
    const survivor = await startUpstream('survivor');
    const gw = await gateway({ targets: [victim, survivor] });
    const cookie = await pinned(gw, 'victim');
    await victim.close();
    const h = await hit(gw, '/app/x', cookie);
    expect(h.upstream).toBe('survivor');
    expect(h.cookie).toBeDefined();
    expect(h.cookie).not.toBe(cookie);
    for (let i = 0; i < 4; i++) {
      const again = await hit(gw, '/app/x', h.cookie);
      expect(again.upstream).toBe('survivor');
      expect(again.cookie).toBeUndefined();
    }
    await survivor.close();
  });
});

describe('sticky secrets and lifetimes', () => {
  it('is honoured by another instance with the same secret, ignored by one with another secret', async () => {
    const one = await gateway();
    const two = await gateway();
    const stranger = await gateway({ secret: 'some-other-secret-entirely' });
    const cookie = await pinned(one, 'c');
    for (let i = 0; i < 3; i++) expect((await hit(two, '/app/x', cookie)).upstream).toBe('c');
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const h = await hit(stranger, '/app/x', cookie);
      expect(h.cookie).toBeDefined();
      seen.add(h.upstream);
    }
    expect(seen.size).toBe(3);
  });

  it('never sends a client to the wrong server when the pool is reordered (index and id must both match)', async () => {
    const one = await gateway();
    const reordered = await gateway({ targets: [ups[1]!, ups[0]!, ups[2]!] });
    const cookie = await pinned(one, 'a'); // index 0 in `one`; index 0 is b in `reordered`
    const h = await hit(reordered, '/app/x', cookie);
    expect(h.cookie).toBeDefined(); // ignored
  });

  it('expires after its ttl and is renewed past half of it (injected clock)', async () => {
    let now = Date.now();
    const gw = await gateway({ now: () => now, ttl: '10m' });
    const cookie = await pinned(gw, 'a');
    now += 4 * 60_000; // young: kept as is
    expect(await hit(gw, '/app/x', cookie)).toMatchObject({ upstream: 'a', cookie: undefined });
    now += 2 * 60_000; // past half its life: same target, renewed
    const renewed = await hit(gw, '/app/x', cookie);
    expect(renewed.upstream).toBe('a');
    expect(renewed.cookie).toBeDefined();
    now += 5 * 60_000; // the original is now expired; the renewed one is not
    expect(await hit(gw, '/app/x', renewed.cookie)).toMatchObject({ upstream: 'a', cookie: undefined });
    const stale = await hit(gw, '/app/x', cookie);
    expect(stale.cookie).toBeDefined();
  });

  it('uses SWITCHYARD_STICKY_SECRET when no stickySecret is configured, else one random key per process', () => {
    const fromEnv = stickySecret(undefined, { SWITCHYARD_STICKY_SECRET: 'from-the-environment' });
    expect(fromEnv.key.toString()).toBe('from-the-environment');
    expect(stickySecret('configured-secret-value', { SWITCHYARD_STICKY_SECRET: 'from-the-environment' }).key.toString()).toBe('configured-secret-value');
    const a = stickySecret(undefined, {});
    const b = stickySecret(undefined, {});
    expect(a.key.length).toBe(32);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(fromEnv.fingerprint);
  });

  it('rejects a cookie signed for another upstream name at the token level', () => {
    const secret = stickySecret('unit-test-secret-value');
    const target = { id: 'http://127.0.0.1:1', index: 0, eligible: () => true } as never;
    const mine = new Sticky('app', 'sy_sticky', 60_000, secret);
    const theirs = new Sticky('other', 'sy_sticky', 60_000, secret);
    const value = (line: string) => line.slice('sy_sticky='.length, line.indexOf(';'));
    const now = 1_700_000_000_000;
    expect(mine.find(value(mine.setCookie(target, now, false)), [target], now)?.target).toBe(target);
    expect(mine.find(value(theirs.setCookie(target, now, false)), [target], now)).toBeUndefined();
    expect(mine.setCookie(target, now, true)).toMatch(/; Secure$/);
  });
});

describe('sticky WebSockets', () => {
  it('upgrades go to the pinned target, and an unpinned upgrade gets a cookie on its 101', async () => {
    // Two servers answering HTTP with their name and greeting WebSockets with it.
    const servers = await Promise.all(
      ['ws-a', 'ws-b'].map(async (name) => {
        const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: name })));
        new WebSocketServer({ server }).on('connection', (sock) => sock.send(name));
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        return { name, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
      }),
    );
    const gw = await startGateway({
      gateway: { stickySecret: SECRET },
      routeFiles: { 'ws.yaml': { upstreams: { rt: { targets: servers.map((x) => ({ url: x.url })), sticky: { cookie: 'sy_sticky' } } }, routes: [{ id: 'rt', match: { path: '/rt/*' }, upstream: 'rt' }] } },
    });
    const greeting = (headers: Record<string, string>) =>
      new Promise<{ name: string; setCookie: string[] }>((resolve, reject) => {
        const ws = new WebSocket(gw.url.replace('http', 'ws') + '/rt/socket', { headers });
        let setCookie: string[] = [];
        ws.once('upgrade', (res) => (setCookie = [res.headers['set-cookie'] ?? []].flat()));
        ws.once('message', (m) => {
          resolve({ name: m.toString(), setCookie });
          ws.close();
        });
        ws.once('error', reject);
      });
    try {
      for (const target of ['ws-a', 'ws-b']) {
        const cookie = await pinned(gw, target, '/rt/x');
        for (let i = 0; i < 3; i++) {
          const g = await greeting({ cookie: `sy_sticky=${cookie}` });
          expect(g.name).toBe(target);
          expect(g.setCookie).toEqual([]);
        }
      }
      const fresh = await greeting({});
      expect(fresh.setCookie.some((c) => c.startsWith('sy_sticky='))).toBe(true);
    } finally {
      await gw.close();
      for (const x of servers) x.server.closeAllConnections();
      await Promise.all(servers.map((x) => new Promise((r) => x.server.close(r))));
    }
  });
});
