import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';

describe('proxying', () => {
  let a: TestUpstream, b: TestUpstream, c: TestUpstream, s: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    [a, b, c, s] = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('c'), startUpstream('static')]);
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'api.yaml': {
          upstreams: { api: { targets: [{ url: a.url }, { url: b.url }, { url: c.url }] } },
          routes: [{ id: 'api', match: { path: '/api/*' }, upstream: 'api', stripPrefix: true }],
        },
        'static.yaml': {
          upstreams: { static: { targets: [{ url: s.url }], hostHeader: 'client' } },
          routes: [{ id: 'static', match: { path: '/static/*', methods: ['GET', 'HEAD'] }, upstream: 'static' }],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([a, b, c, s].map((u) => u.close()));
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(gw.url + path, { headers });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
  };

  it('routes by prefix, strips it, and rotates over the pool (round robin)', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await get(`/api/users/${i}?x=1`);
      expect(r.status).toBe(200);
      seen.push(r.json().upstream);
      expect(r.json().url).toBe(`/users/${i}?x=1`);
    }
    expect(seen.slice(0, 3).sort()).toEqual(['a', 'b', 'c']);
    expect(seen.slice(3)).toEqual(seen.slice(0, 3));
  });

  it('keeps the prefix without stripPrefix and answers 404 JSON for unmatched paths', async () => {
    const r = await get('/static/app.js');
    expect(r.json()).toMatchObject({ upstream: 'static', url: '/static/app.js' });
    const miss = await get('/nothing/here');
    expect(miss.status).toBe(404);
    expect(miss.headers['content-type']).toMatch(/application\/json/);
    expect(miss.json().error).toMatchObject({ code: 'SY_ERR_ROUTE_NOT_FOUND', status: 404 });
    expect(miss.json().error.requestId).toBe(miss.headers['x-request-id']);
    expect((await get('/apix')).status).toBe(404);
  });

  it('404s a method the route does not allow', async () => {
    const res = await request(gw.url + '/static/x', { method: 'POST', body: 'x' });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
  });

  it('sets forwarding headers and a request id, overwriting forged ones from an untrusted client', async () => {
    const r = await get('/api/h', { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil', 'x-forwarded-proto': 'https', forwarded: 'for=6.6.6.6', 'x-real-ip': '6.6.6.6', 'x-request-id': 'client-chosen' });
    const h = r.json().headers;
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(`127.0.0.1:${gw.port}`);
    expect(h.forwarded).toBeUndefined();
    expect(h['x-real-ip']).toBeUndefined();
    expect(h['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-request-id']).toBe(h['x-request-id']);
  });

  it('sends the target host by default and the client host when configured', async () => {
    const api = await get('/api/h');
    expect(api.json().headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(api.json().headers.host).not.toBe(`127.0.0.1:${gw.port}`);
    const st = await get('/static/h', { host: 'www.example.com' });
    expect(st.json().headers.host).toBe('www.example.com');
  });

  it('removes hop-by-hop headers in both directions, including those named by Connection', async () => {
    s.setHandler((_req, res) => {
      res.writeHead(200, { connection: 'x-secret, keep-alive', 'x-secret': 'internal', 'keep-alive': 'timeout=5', 'x-ok': '1', 'proxy-authenticate': 'Basic' });
      res.end('ok');
    });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(gw.url + '/static/hop', { headers: { connection: 'x-drop, keep-alive', 'x-drop': 'me', te: 'trailers', 'proxy-authorization': 'Basic eA==' } }, resolve);
        req.on('error', reject);
        req.end();
      });
      res.resume();
      expect(res.headers['x-secret']).toBeUndefined();
      expect(res.headers['proxy-authenticate']).toBeUndefined();
      expect(res.headers['x-ok']).toBe('1');
      const seen = s.requests.at(-1)!.headers;
      expect(seen['x-drop']).toBeUndefined();
      expect(seen.te).toBeUndefined();
      expect(seen['proxy-authorization']).toBeUndefined();
    } finally {
      s.setHandler((req, res, body, self) => import('../../src/testing/index.js').then((m) => m.echoHandler(req, res, body, self)));
    }
  });
});
