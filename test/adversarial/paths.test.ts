/**
 * Path tricks around auth. `/admin/*` is protected by the jwt plugin and has
 * its own upstream; `/public/*`, `/svc/*` (stripPrefix) and a catch-all `/*`
 * go to another. A second layout puts a protected prefix and an open
 * catch-all on the same upstream, the layout where a path the gateway and the
 * upstream read differently becomes an auth bypass. For every trick: the
 * admin upstream never sees an unauthenticated request, whatever reaches an
 * upstream is exactly the normalized path the router matched, and no host
 * named by the client is ever dialled.
 */
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/gateway/gateway.js';
import { startGateway, type TestGateway } from '../../src/testing/index.js';
import { sendRaw, startRecorder, type Recorder } from './helpers.js';

const SECRET = 'paths-test-secret-0123456789abcdef0123456789';
const token = () => jwt.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS256', expiresIn: '5m' });
const auth = { jwt: { algorithms: ['HS256'], secret: SECRET } };

let pub: Recorder;
let adm: Recorder;
let app: Recorder;
let evil: Recorder;
let gw: TestGateway;

beforeAll(async () => {
  [pub, adm, app, evil] = await Promise.all([startRecorder(), startRecorder(), startRecorder(), startRecorder()]);
  gw = await startGateway({
    gateway: {},
    routeFiles: {
      'r.yaml': {
        upstreams: {
          pub: { targets: [{ url: pub.url }] },
          adm: { targets: [{ url: adm.url }] },
          app: { targets: [{ url: app.url }] },
        },
        routes: [
          { id: 'admin', match: { path: '/admin/*' }, upstream: 'adm', plugins: [auth] },
          { id: 'public', match: { path: '/public/*' }, upstream: 'pub' },
          { id: 'svc', match: { path: '/svc/*' }, upstream: 'pub', stripPrefix: true },
          // Same upstream behind a protected prefix and an open path.
          { id: 'account', match: { path: '/app/account/*' }, upstream: 'app', plugins: [auth] },
          { id: 'app-open', match: { path: '/app/*' }, upstream: 'app' },
          { id: 'rest', match: { path: '/*' }, upstream: 'pub' },
        ],
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([pub, adm, app, evil].map((r) => r?.close()));
});
afterEach(() => {
  for (const r of [pub, adm, app, evil]) r.reset();
});

/** send sends a GET with a raw request target. */
function send(target: string, headers = '', method = 'GET') {
  return sendRaw(gw.port, `${method} ${target} HTTP/1.1\r\nHost: gw.test\r\n${headers}\r\n`, { until: 1 });
}

/** targets lists what each upstream received. */
function seen() {
  return { pub: pub.requests().map((r) => r.target), adm: adm.requests().map((r) => r.target), app: app.requests().map((r) => r.target), evil: evil.connections.length };
}

type Expect = { status: 400 | 401 | 404 } | { pub: string } | { app: string };

describe('no path trick reaches a protected route without auth', () => {
  it.each<[string, Expect]>([
    // dot segments, raw and encoded: resolved before routing, so they land on the protected route.
    ['/public/../admin/secret', { status: 401 }],
    ['/public/./../admin/secret', { status: 401 }],
    ['/public/%2e%2e/admin/secret', { status: 401 }],
    ['/public/%2E%2e/admin/secret', { status: 401 }],
    ['/public/.%2e/admin/secret', { status: 401 }],
    ['/public/%2e./admin/secret', { status: 401 }],
    ['/public/x/../../admin/secret', { status: 401 }],
    ['/../../../admin/secret', { status: 401 }],
    ['/svc/../admin/secret', { status: 401 }],
    ['/%61dmin/secret', { status: 401 }],
    ['/%61%64%6d%69%6e/secret', { status: 401 }],
    ['//admin/secret', { status: 401 }],
    ['/public//../admin/secret', { status: 401 }],
    ['/admin//secret', { status: 401 }],
    ['/admin/./secret', { status: 401 }],
    // encoded slashes and backslashes: upstreams disagree on them, so they are refused.
    ['/public/%2e%2e%2fadmin/secret', { status: 400 }],
    ['/public/..%2fadmin/secret', { status: 400 }],
    ['/public%2f..%2fadmin/secret', { status: 400 }],
    ['/public/..%2Fadmin/secret', { status: 400 }],
    ['/public/..\\admin/secret', { status: 400 }],
    ['/public/%5c../admin/secret', { status: 400 }],
    ['/public\\..\\admin\\secret', { status: 400 }],
    // path parameters: servlet containers and others drop them, so they are refused.
    ['/public/..;/admin/secret', { status: 400 }],
    ['/admin;x/secret', { status: 400 }],
    ['/app/account;jsessionid=1/settings', { status: 400 }],
    ['/app/account;/settings', { status: 400 }],
    ['/admin%3bx/secret', { status: 400 }],
    ['/public/x?a=1#/../admin', { status: 400 }],
    // NUL and control characters, raw and encoded.
    ['/admin%00/secret', { status: 400 }],
    ['/public/%00/../admin/secret', { status: 400 }],
    ['/admin/secret%0d%0aX-Injected:%201', { status: 400 }],
    // fragments never belong in a request target; frameworks that strip them would see another path.
    ['/app/account#x', { status: 400 }],
    ['/app/x#/../account/settings', { status: 400 }],
    // absolute-form and asterisk-form targets: never proxied, never dialled.
    [`http://127.0.0.1:PORT/admin/secret`, { status: 400 }],
    [`http://evil.example/admin/secret`, { status: 400 }],
    ['*', { status: 400 }],
    // case and trailing dots: routing is case-sensitive and exact (like nginx and Envoy); such paths go
    // where their literal spelling says, and the upstream sees exactly that spelling.
    ['/ADMIN/secret', { pub: '/ADMIN/secret' }],
    ['/%41DMIN/secret', { pub: '/ADMIN/secret' }],
    ['/admin./secret', { pub: '/admin./secret' }],
    ['/admin%2e/secret', { pub: '/admin./secret' }],
    ['/admin%20/secret', { pub: '/admin%20/secret' }],
    // double encoding is not decoded twice: the upstream sees one layer decoded, nothing more.
    ['/public/%252e%252e/admin/secret', { pub: '/public/%252e%252e/admin/secret' }],
    // stripPrefix cannot be escaped: the path is normalized before the prefix is removed.
    ['/svc/a/../b', { pub: '/b' }],
    ['/svc/%2e%2e/%2e%2e/etc/passwd', { pub: '/etc/passwd' }],
    ['/svcx/admin/secret', { pub: '/svcx/admin/secret' }],
    // the query is not part of the path and never changes the route.
    ['/public/x?/../../admin/secret', { pub: '/public/x?/../../admin/secret' }],
    // the shared-upstream layout: only a literal, normalized /app/account/... is protected, and only that reaches it protected.
    ['/app/x/../account/settings', { status: 401 }],
    ['/app/%61ccount/settings', { status: 401 }],
    ['/app//account/settings', { status: 401 }],
    ['/app/./account/settings', { status: 401 }],
    ['/app/Account/settings', { app: '/app/Account/settings' }],
  ])('%s', async (rawTarget, want) => {
    const target = rawTarget.replace('PORT', String(adm.port));
    const r = await send(target);
    expect(r.responses).toHaveLength(1);
    const res = r.responses[0]!;
    const s = seen();
    // Never: the admin upstream or an address named by the client.
    expect(s.adm).toEqual([]);
    expect(s.evil).toBe(0);
    if ('status' in want) {
      expect(res.status).toBe(want.status);
      expect(s.pub).toEqual([]);
      expect(s.app).toEqual([]);
    } else {
      expect(res.status).toBe(200);
      if ('pub' in want) {
        expect(s.pub).toEqual([want.pub]);
        expect(s.app).toEqual([]);
      } else {
        expect(s.app).toEqual([want.app]);
        expect(s.pub).toEqual([]);
      }
    }
  });
});

describe('authenticated requests reach the upstream with the path the router matched', () => {
  it.each([
    ['/public/../admin/secret', '/admin/secret'],
    ['/public/%2e%2e/admin/secret', '/admin/secret'],
    ['/%61dmin//secret/./x/..', '/admin/secret/'],
    ['/app/x/../account/settings', '/app/account/settings'],
  ])('%s → %s', async (rawTarget, normalized) => {
    const r = await send(rawTarget, `Authorization: Bearer ${token()}\r\n`);
    expect(r.responses[0]!.status).toBe(200);
    const upstream = rawTarget.startsWith('/app') ? app : adm;
    const got = upstream.requests();
    expect(got.map((q) => q.target)).toEqual([normalized]);
    expect(got[0]!.header('x-user-id')).toBe('alice');
  });
});

describe('no host named by the client is ever dialled', () => {
  it('ignores a Host header naming another server (the target host is sent upstream)', async () => {
    const r = await sendRaw(gw.port, `GET /public/x HTTP/1.1\r\nHost: 127.0.0.1:${evil.port}\r\n\r\n`, { until: 1 });
    expect(r.responses[0]!.status).toBe(200);
    expect(evil.connections).toHaveLength(0);
    const got = pub.requests();
    expect(got).toHaveLength(1);
    expect(got[0]!.header('host')).toBe(`127.0.0.1:${pub.port}`);
  });

  it('refuses CONNECT to any address without dialling it', async () => {
    const r = await sendRaw(gw.port, `CONNECT 127.0.0.1:${evil.port} HTTP/1.1\r\nHost: 127.0.0.1:${evil.port}\r\n\r\n`);
    expect(r.closed).toBe(true);
    expect(r.responses.every((x) => x.status >= 400)).toBe(true);
    expect(r.text).not.toMatch(/^HTTP\/1\.1 200/);
    expect(evil.connections).toHaveLength(0);
  });

  it('refuses an absolute-form target naming the evil server, with any Host', async () => {
    const r = await sendRaw(gw.port, `GET http://127.0.0.1:${evil.port}/public/x HTTP/1.1\r\nHost: 127.0.0.1:${evil.port}\r\n\r\n`, { until: 1 });
    expect(r.responses[0]!.status).toBe(400);
    expect(evil.connections).toHaveLength(0);
    expect(pub.requests()).toEqual([]);
  });
});

describe('route patterns', () => {
  it('refuse a path parameter at load: no request could ever match it', async () => {
    await expect(
      createGateway({ gateway: {}, routeFiles: { 'r.yaml': { upstreams: { u: { targets: [{ url: 'http://127.0.0.1:9' }] } }, routes: [{ id: 'r', match: { path: '/admin;v=1/*' }, upstream: 'u' }] } } }),
    ).rejects.toThrow(/must be a normalized path/);
  });
});
