import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createGateway } from '../../src/gateway/gateway.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { isolatedDir, send } from './helpers.js';

describe('cors plugin', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream('api', (req, res) => {
      // A careless upstream: permissive CORS headers of its own, and a Vary.
      res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true', vary: 'Accept-Encoding' }).end('ok');
    });
    const route = (id: string, plugins: unknown[]) => ({ id, match: { path: `/${id}/*` }, upstream: 'api', plugins });
    gw = await startGateway({
      gateway: {},
      baseDir: isolatedDir(),
      env: { SECRET: 'cors-test-secret-that-is-32-bytes-long' },
      routeFiles: {
        'cors.yaml': {
          upstreams: { api: { targets: [{ url: up.url }] } },
          routes: [
            route('list', [
              {
                cors: {
                  origins: ['https://app.example.com', 'https://*.example.org', 'http://localhost:*'],
                  credentials: true,
                  allowedHeaders: ['Authorization', 'Content-Type'],
                  exposedHeaders: ['X-Total-Count'],
                  methods: ['GET', 'POST'],
                  maxAge: '1h',
                },
              },
            ]),
            route('any', [{ cors: { origins: '*' } }]),
            route('auth', [{ cors: { origins: ['https://app.example.com'] } }, { jwt: { algorithms: ['HS256'], secret: '${SECRET}' } }]),
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const preflight = (path: string, origin: string, extra: Record<string, string> = {}) =>
    send(gw.url + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', ...extra } });

  describe('preflight', () => {
    it('answers an allowed origin itself with 204 and the configured lists', async () => {
      const hits = up.requests.length;
      const r = await preflight('/list/items', 'https://app.example.com', { 'access-control-request-headers': 'authorization, content-type' });
      expect(r.status).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(r.headers['access-control-allow-credentials']).toBe('true');
      expect(r.headers['access-control-allow-methods']).toBe('GET, POST');
      expect(r.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
      expect(r.headers['access-control-max-age']).toBe('3600');
      expect(r.headers.vary).toMatch(/Origin/);
      expect(r.text).toBe('');
      expect(up.requests.length).toBe(hits);
    });

    it('answers 403 with the catalog body for an origin not allowed, without CORS headers', async () => {
      const r = await preflight('/list/items', 'https://evil.test');
      expect(r.status).toBe(403);
      expect(r.json().error.code).toBe('SY_ERR_CORS_REJECTED');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      expect(r.headers.vary).toBe('Origin');
    });

    it('is answered before authentication plugins later in the chain', async () => {
      const r = await preflight('/auth/x', 'https://app.example.com');
      expect(r.status).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
    });

    it('reflects the requested headers when no allowedHeaders list is set, but only a clean header list', async () => {
      const ok = await preflight('/any/x', 'https://whoever.test', { 'access-control-request-headers': 'x-custom, content-type' });
      expect(ok.headers['access-control-allow-headers']).toBe('x-custom, content-type');
      const odd = await preflight('/any/x', 'https://whoever.test', { 'access-control-request-headers': 'x-custom; <script>' });
      expect(odd.status).toBe(204);
      expect(odd.headers['access-control-allow-headers']).toBeUndefined();
    });

    it('passes a plain OPTIONS request (no Access-Control-Request-Method) to the upstream', async () => {
      const hits = up.requests.length;
      const r = await send(gw.url + '/list/x', { method: 'OPTIONS', headers: { origin: 'https://app.example.com' } });
      expect(r.status).toBe(200);
      expect(up.requests.length).toBe(hits + 1);
    });
  });

  describe('origin matching', () => {
    it.each([
      ['https://app.example.com', true],
      ['HTTPS://APP.EXAMPLE.COM', true],
      ['https://a.example.org', true],
      ['https://a.b.example.org', true],
      ['http://localhost:5173', true],
      ['http://localhost', true],
      ['https://example.org', false],
      ['https://evilexample.org', false],
      ['https://a.example.org.evil.test', false],
      ['http://a.example.org', false],
      ['https://app.example.com.evil.test', false],
      ['https://app.example.com:8443', false],
      ['http://localhost.evil.test:5173', false],
      ['null', false],
    ])('%s allowed: %s', async (origin, allowed) => {
      const r = await send(gw.url + '/list/x', { headers: { origin } });
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe(allowed ? origin : undefined);
      expect(r.headers['access-control-allow-credentials']).toBe(allowed ? 'true' : undefined);
    });
  });

  describe('actual responses', () => {
    it("replaces the upstream's CORS headers with the plugin's and adds Vary: Origin", async () => {
      const r = await send(gw.url + '/list/x', { headers: { origin: 'https://app.example.com' } });
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(r.headers['access-control-expose-headers']).toBe('X-Total-Count');
      expect(r.headers.vary).toBe('Accept-Encoding, Origin');
    });

    it("drops the upstream's permissive headers for a foreign origin, and for no origin at all", async () => {
      for (const headers of [{ origin: 'https://evil.test' }, {}]) {
        const r = await send(gw.url + '/list/x', { headers });
        expect(r.headers['access-control-allow-origin']).toBeUndefined();
        expect(r.headers['access-control-allow-credentials']).toBeUndefined();
        expect(r.headers.vary).toBe('Accept-Encoding, Origin');
      }
    });

    it('answers a literal * for origins "*", never the reflected origin', async () => {
      const r = await send(gw.url + '/any/x', { headers: { origin: 'https://whoever.test' } });
      expect(r.headers['access-control-allow-origin']).toBe('*');
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
    });

    it("adds CORS headers to the gateway's own answers, so browsers can read a 401", async () => {
      const r = await send(gw.url + '/auth/x', { headers: { origin: 'https://app.example.com' } });
      expect(r.status).toBe(401);
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(r.headers.vary).toBe('Origin');
    });
  });

  describe('configuration', () => {
    const load = async (cors: object) => {
      try {
        const g = await createGateway({
          logger: pino({ level: 'silent' }),
          gateway: {},
          baseDir: isolatedDir(),
          offline: true,
          routeFiles: { 'c.yaml': { upstreams: { a: { targets: [{ url: 'http://127.0.0.1:9' }] } }, routes: [{ id: 'r', match: { path: '/' }, upstream: 'a', plugins: [{ cors }] }] } },
        });
        await g.close();
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };

    it('refuses credentials with origins "*"', async () => {
      expect(await load({ origins: '*', credentials: true })).toMatch(/credentials: true needs an explicit origins list/);
      expect(await load({ origins: ['https://a.test', '*'], credentials: true })).toMatch(/credentials: true needs an explicit origins list/);
    });

    it.each([['null'], ['https://*'], ['https://ex*.com'], ['https://a.test/path'], ['*.example.com'], ['https://a.*.example.com']])('refuses the origin %s', async (o) => {
      expect(await load({ origins: [o] })).toMatch(/origins:/);
    });

    it('accepts a valid configuration', async () => {
      expect(await load({ origins: ['https://a.test', 'https://*.b.test:8443', 'capacitor://localhost'] })).toBe('');
    });
  });
});
