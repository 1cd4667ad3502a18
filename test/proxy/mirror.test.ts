/**
 * Shadow traffic against real upstreams: the copy carries X-Mirrored-From and
 * its own request id linked to the original; bodies over the limit, streamed
 * bodies and methods not listed are never copied; sampling follows `percent`;
 * the concurrency cap drops (and counts) what it cannot take, never queues;
 * a hung shadow is cut by the mirror's own timeout; and a shadow's Set-Cookie
 * and X-Session-Set never reach the client or the session store; and a
 * WebSocket upgrade is never copied.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { request } from 'undici';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream, type UpstreamHandler } from '../../src/testing/index.js';
import type { CompiledMirror } from '../../src/proxy/mirror-state.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

const hits = (u: TestUpstream) => u.requests.filter((r) => r.url !== '/healthz');
const mirrorOf = (gw: TestGateway, id: string): CompiledMirror => gw.gateway.runtime.routes.find((r) => r.id === id)!.mirror!;

/** settled waits until every copy sent on `id` has ended (answered, failed or timed out). */
async function settled(gw: TestGateway, id: string): Promise<void> {
  const m = mirrorOf(gw, id);
  const s = m.stats;
  await waitFor(() => s.ok + s.shadow5xx + s.errors === s.sent, { message: `copies of ${id} ended` });
}

describe('mirror', () => {
  let primary: TestUpstream, shadow: TestUpstream;
  let gw: TestGateway;
  const log: CapturedLog = captureLog();

  beforeAll(async () => {
    [primary, shadow] = await Promise.all([startUpstream('primary'), startUpstream('shadow')]);
    gw = await startGateway({
      gateway: {},
      logger: log.logger,
      routeFiles: {
        'orders.yaml': {
          upstreams: { orders: { targets: [{ url: primary.url }] }, 'orders-shadow': { targets: [{ url: shadow.url }] } },
          routes: [
            { id: 'orders', match: { path: '/orders/*' }, upstream: 'orders', mirror: { upstream: 'orders-shadow', bodyLimit: '1kb', methods: ['GET', 'POST'] } },
            { id: 'reads', match: { path: '/reads/*' }, upstream: 'orders', mirror: { upstream: 'orders-shadow' } },
            { id: 'sampled', match: { path: '/sampled/*' }, upstream: 'orders', mirror: { upstream: 'orders-shadow', percent: 20 } },
            { id: 'small-buffer', match: { path: '/small/*' }, upstream: 'orders', retry: { bufferBody: 100 }, mirror: { upstream: 'orders-shadow', methods: ['POST'] } },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([primary.close(), shadow.close()]);
  });

  it('copies the request with X-Mirrored-From and its own request id, linked by X-Original-Request-Id', async () => {
    // Forged mirror headers from the client are dropped on both sides.
    const forged = { 'x-mirrored-from': 'forged', 'x-original-request-id': 'forged', x_mirrored_from: 'forged' };
    const res = await request(gw.url + '/orders/42?x=1', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain', cookie: 'a=b', ...forged } });
    const seen = (await res.body.json()) as { upstream: string };
    expect(res.statusCode).toBe(200);
    expect(seen.upstream).toBe('primary');
    const original = res.headers['x-request-id'] as string;
    await waitFor(() => hits(shadow).length === 1, { message: 'the copy' });
    const copy = hits(shadow)[0]!;
    expect(copy.method).toBe('POST');
    expect(copy.url).toBe('/orders/42?x=1');
    expect(copy.body.toString()).toBe('hello');
    expect(copy.rawHeaders.filter((h) => /^x.mirrored.from$/i.test(h))).toEqual(['x-mirrored-from']);
    expect(copy.headers['x-mirrored-from']).toBe('orders');
    expect(copy.headers['x-original-request-id']).toBe(original);
    expect(copy.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(copy.headers['x-request-id']).not.toBe(original);
    expect(copy.headers.cookie).toBe('a=b');
    // The primary never sees the mirror headers.
    const prim = hits(primary).at(-1)!;
    expect(prim.headers['x-mirrored-from']).toBeUndefined();
    expect(prim.headers['x-original-request-id']).toBeUndefined();
    expect(prim.headers.x_mirrored_from).toBeUndefined();
    expect(prim.headers['x-request-id']).toBe(original);
    await settled(gw, 'orders');
    expect(mirrorOf(gw, 'orders').stats).toMatchObject({ sent: 1, ok: 1, overLimit: 0 });
  });

  it('never copies a body over bodyLimit, and counts it', async () => {
    const before = hits(shadow).length;
    const big = 'x'.repeat(2048);
    const res = await request(gw.url + '/orders/big', { method: 'POST', body: big });
    expect(((await res.body.json()) as { bodyLength: number }).bodyLength).toBe(2048);
    // A small request after it: once its copy arrived, the big one would have too (one connection, in order is not promised; so count).
    await request(gw.url + '/orders/after').then((r) => r.body.dump());
    await waitFor(() => hits(shadow).some((r) => r.url === '/orders/after'), { message: 'the later copy' });
    expect(hits(shadow).slice(before).map((r) => r.url)).toEqual(['/orders/after']);
    expect(mirrorOf(gw, 'orders').stats.overLimit).toBe(1);
  });

  it('copies a small chunked body whole, and never a body that streams past retry.bufferBody', async () => {
    const before = hits(shadow).length;
    // undici sends an async-iterable body chunked (no content-length).
    const chunks = (parts: string[]) => (async function* () { for (const p of parts) yield Buffer.from(p); })();
    const small = await request(gw.url + '/small/a', { method: 'POST', body: chunks(['ab', 'cd']) });
    await small.body.dump();
    const streamed = await request(gw.url + '/small/b', { method: 'POST', body: chunks(['x'.repeat(80), 'y'.repeat(80)]) });
    expect(((await streamed.body.json()) as { bodyLength: number }).bodyLength).toBe(160);
    const declared = await request(gw.url + '/small/c', { method: 'POST', body: 'z'.repeat(500) });
    expect(((await declared.body.json()) as { bodyLength: number }).bodyLength).toBe(500);
    await waitFor(() => hits(shadow).some((r) => r.url === '/small/a'), { message: 'the small copy' });
    await settled(gw, 'small-buffer');
    const copies = hits(shadow).slice(before);
    expect(copies.map((r) => [r.url, r.body.toString()])).toEqual([['/small/a', 'abcd']]);
    expect(mirrorOf(gw, 'small-buffer').stats).toMatchObject({ sent: 1, overLimit: 2 });
  });

  it('copies only the safe methods by default', async () => {
    const before = hits(shadow).length;
    await request(gw.url + '/reads/1', { method: 'POST', body: 'write' }).then((r) => r.body.dump());
    await request(gw.url + '/reads/1', { method: 'DELETE' }).then((r) => r.body.dump());
    await request(gw.url + '/reads/2').then((r) => r.body.dump());
    await waitFor(() => hits(shadow).some((r) => r.url === '/reads/2'), { message: 'the GET copy' });
    await settled(gw, 'reads');
    expect(hits(shadow).slice(before).map((r) => `${r.method} ${r.url}`)).toEqual(['GET /reads/2']);
    // The access log marks the original of a copied request, and only it.
    const access = log.lines.filter((l) => l.kind === 'access' && l.route === 'reads');
    expect(access.map((l) => [l.method, l.mirrored])).toEqual([
      ['POST', undefined],
      ['DELETE', undefined],
      ['GET', true],
    ]);
    expect(log.duplicates).toEqual([]);
  });

  it('samples about `percent` of the requests', async () => {
    const before = hits(shadow).length;
    const n = 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < n) {
          const i = next++;
          const r = await request(`${gw.url}/sampled/${i}`);
          expect(r.statusCode).toBe(200);
          await r.body.dump();
        }
      }),
    );
    await settled(gw, 'sampled');
    const copied = hits(shadow).length - before;
    expect(mirrorOf(gw, 'sampled').stats.sent).toBe(copied);
    // 20 % of 1000: 200 expected, sd ≈ 12.6; ±5 sd.
    expect(copied).toBeGreaterThan(137);
    expect(copied).toBeLessThan(263);
  });

  it('exports the counters as metrics', async () => {
    const text = await gw.gateway.metricsText();
    const sent = mirrorOf(gw, 'orders').stats.sent;
    expect(text).toContain(`switchyard_mirror_requests_total{route="orders",upstream="orders-shadow",result="sent"} ${sent}`);
    expect(text).toContain('switchyard_mirror_requests_total{route="orders",upstream="orders-shadow",result="over_limit"} 1');
    expect(text).toContain(`switchyard_mirror_responses_total{route="orders",upstream="orders-shadow",result="ok"} ${sent}`);
    expect(text).toMatch(/switchyard_mirror_duration_seconds_count\{route="orders",upstream="orders-shadow"\} \d+/);
  });
});

describe('mirror against a hung shadow', () => {
  let primary: TestUpstream, hung: TestUpstream;
  const held: ServerResponse[] = [];
  let gw: TestGateway;

  beforeAll(async () => {
    primary = await startUpstream('primary');
    hung = await startUpstream('hung', (_req, res) => void held.push(res));
    gw = await startGateway({
      gateway: { limits: { mirrorConcurrency: 2 } },
      routeFiles: {
        'a.yaml': {
          upstreams: { a: { targets: [{ url: primary.url }] }, hung: { targets: [{ url: hung.url }] } },
          routes: [
            { id: 'capped', match: { path: '/capped/*' }, upstream: 'a', mirror: { upstream: 'hung', timeout: '60s' } },
            { id: 'timed', match: { path: '/timed/*' }, upstream: 'a', mirror: { upstream: 'hung', timeout: '300ms' } },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([primary.close(), hung.close()]);
  });

  it('drops and counts copies over limits.mirrorConcurrency, never queues them, and answers every client', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await request(`${gw.url}/capped/${i}`);
      expect(r.statusCode).toBe(200);
      await r.body.dump();
    }
    const m = mirrorOf(gw, 'capped');
    expect(m.stats).toMatchObject({ sent: 2, dropped: 8 });
    expect(m.gate.inflight).toBe(2);
    await waitFor(() => held.length === 2, { message: 'two copies at the shadow' });
    // Free the slots: the shadow answers, the gate empties, copies flow again.
    for (const res of held.splice(0)) res.writeHead(200).end();
    await waitFor(() => m.gate.inflight === 0, { message: 'slots freed' });
    expect(m.stats.ok).toBe(2);
  });

  it('cuts a copy at its own timeout and frees its slot; the client is answered at once', async () => {
    const t0 = performance.now();
    const r = await request(`${gw.url}/timed/1`);
    await r.body.dump();
    expect(r.statusCode).toBe(200);
    expect(performance.now() - t0).toBeLessThan(250);
    const m = mirrorOf(gw, 'timed');
    await waitFor(() => m.stats.timeouts === 1, { message: 'the copy timed out' });
    expect(m.stats).toMatchObject({ sent: 1, errors: 1, timeouts: 1, ok: 0 });
    expect(m.gate.inflight).toBe(0);
    held.splice(0);
  });
});

describe('mirror and sessions', () => {
  let primary: TestUpstream, shadow: TestUpstream;
  let gw: TestGateway;

  /** The primary logs in on /login; everything else echoes. */
  const app: UpstreamHandler = (req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (req.url === '/login') headers['x-session-set'] = JSON.stringify({ sub: 'alice' });
    res.writeHead(200, headers).end(JSON.stringify({ headers: req.headers }));
  };
  /** The shadow tries everything a response can do to a session and to the client's cookies. */
  const evil: UpstreamHandler = (_req, res) => {
    res.writeHead(200, { 'set-cookie': ['sy_session=planted; Path=/', 'tracking=1; Path=/'], 'x-session-set': JSON.stringify({ sub: 'mallory' }), 'x-session-clear': '1' }).end('shadow');
  };

  beforeAll(async () => {
    [primary, shadow] = await Promise.all([startUpstream('app', app), startUpstream('evil', evil)]);
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'app.yaml': {
          upstreams: { app: { targets: [{ url: primary.url }] }, evil: { targets: [{ url: shadow.url }] } },
          routes: [{ id: 'app', match: { path: '/*' }, upstream: 'app', plugins: [{ session: {} }], mirror: { upstream: 'evil' } }],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([primary.close(), shadow.close()]);
  });

  it("never lets a shadow's Set-Cookie or X-Session-Set reach the client or the session store", async () => {
    const login = await request(gw.url + '/login');
    await login.body.dump();
    const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^sy_session=[A-Za-z0-9_-]{43};/);
    const cookie = cookies[0]!.slice(0, cookies[0]!.indexOf(';'));
    const m = mirrorOf(gw, 'app');
    await waitFor(() => m.stats.ok === 1, { message: 'the shadow answered the copy of /login' });

    const page = await request(gw.url + '/page', { headers: { cookie } });
    const body = (await page.body.json()) as { headers: Record<string, string> };
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.headers['x-session-set']).toBeUndefined();
    expect(body.headers['x-user-id']).toBe('alice');
    await waitFor(() => m.stats.ok === 2, { message: 'the shadow answered the copy of /page' });

    // After both shadow answers (set mallory, clear): the session is still alice's, under the same id.
    const again = await request(gw.url + '/again', { headers: { cookie } });
    const seen = (await again.body.json()) as { headers: Record<string, string> };
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(seen.headers['x-user-id']).toBe('alice');
    // The copy carried the session's identity, as the primary's request did.
    expect(hits(shadow).at(-1)!.headers['x-user-id']).toBe('alice');
  });
});

describe('mirror and WebSockets', () => {
  it('never copies a WebSocket upgrade (a GET on a mirrored route)', async () => {
    const server = http.createServer((_req, res) => res.writeHead(200).end('plain'));
    new WebSocketServer({ server }).on('connection', (sock) => sock.send('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const shadow = await startUpstream('shadow');
    let upgrades = 0;
    shadow.server.on('upgrade', (_req, sock: Socket) => {
      upgrades++;
      sock.destroy();
    });
    const gw = await startGateway({
      gateway: {},
      routeFiles: {
        'rt.yaml': {
          upstreams: { rt: { targets: [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }] }, shadow: { targets: [{ url: shadow.url }] } },
          routes: [{ id: 'rt', match: { path: '/rt/*' }, upstream: 'rt', mirror: { upstream: 'shadow' } }],
        },
      },
    });
    try {
      const ws = new WebSocket(gw.url.replace('http', 'ws') + '/rt/socket');
      const first = await new Promise<string>((resolve, reject) => {
        ws.once('message', (d) => resolve(String(d)));
        ws.once('error', reject);
      });
      expect(first).toBe('hi');
      ws.close();
      // A plain GET on the same route is copied: once its copy arrived, an upgrade copy would have too.
      await request(gw.url + '/rt/plain').then((r) => r.body.dump());
      await waitFor(() => hits(shadow).length === 1, { message: 'the GET copy' });
      expect(hits(shadow).map((r) => r.url)).toEqual(['/rt/plain']);
      expect(upgrades).toBe(0);
      expect(mirrorOf(gw, 'rt').stats.sent).toBe(1);
    } finally {
      await gw.close();
      await shadow.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
