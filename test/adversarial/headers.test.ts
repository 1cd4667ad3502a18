/**
 * Header abuse. Identity headers the gateway sets (here the jwt plugin's
 * x-user-id) cannot be spoofed in any spelling; `Connection` cannot make the
 * gateway drop headers it sets; forwarding headers from an untrusted client
 * are replaced; Host must be single and well-formed; values from claims never
 * inject header lines; size limits answer 431/414; hop-by-hop headers cross
 * in neither direction; an upstream's absolute redirects to itself are
 * rewritten to the client-facing origin.
 */
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../../src/testing/index.js';
import { sendRaw, startRecorder, type ParsedRequest, type Recorder } from './helpers.js';

const SECRET = 'headers-test-secret-0123456789abcdef012345';
const token = (claims: object = { sub: 'alice' }) => jwt.sign(claims, SECRET, { algorithm: 'HS256', expiresIn: '5m' });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let rec: Recorder;
let gw: TestGateway;
let trusting: TestGateway;

function routeFiles(url: string) {
  return {
    'r.yaml': {
      upstreams: {
        rec: { targets: [{ url }] },
        named: { targets: [{ url }], hostHeader: 'api.internal' },
      },
      routes: [
        { id: 'api', match: { path: '/api/*' }, upstream: 'rec', plugins: [{ jwt: { algorithms: ['HS256'], secret: SECRET, forward: { sub: 'x-user-id', role: 'x-user-role' } } }] },
        { id: 'svc', match: { path: '/svc/*' }, upstream: 'rec', stripPrefix: true },
        { id: 'secured', match: { path: '/secured/*' }, upstream: 'rec', plugins: [{ headers: { response: { set: { 'strict-transport-security': 'max-age=63072000', 'x-frame-options': 'DENY' } } } }] },
        { id: 'named', match: { path: '/named/*' }, upstream: 'named' },
        { id: 'open', match: { path: '/*' }, upstream: 'rec' },
      ],
    },
  };
}

beforeAll(async () => {
  rec = await startRecorder();
  gw = await startGateway({ gateway: {}, routeFiles: routeFiles(rec.url) });
  trusting = await startGateway({ gateway: { trustProxy: ['127.0.0.1'] }, routeFiles: routeFiles(rec.url) });
});
afterAll(async () => {
  await gw?.close();
  await trusting?.close();
  await rec?.close();
});
afterEach(() => rec.reset());

const H = 'Host: gw.test\r\n';

/** send sends one request with extra raw header lines and waits for one response. */
function send(path: string, headers = '', opts: { method?: string; body?: string; port?: number } = {}) {
  const body = opts.body ?? '';
  const length = body || opts.method === 'POST' ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : '';
  return sendRaw(opts.port ?? gw.port, `${opts.method ?? 'GET'} ${path} HTTP/1.1\r\n${H}${headers}${length}\r\n${body}`, { until: 1 });
}

/** only returns the single request the recorder saw. */
function only(): ParsedRequest {
  const seen = rec.requests();
  expect(seen).toHaveLength(1);
  expect(rec.malformed()).toEqual([]);
  return seen[0]!;
}

/** named lists values of every header whose name reads as `name` to a CGI-style server (case and _ vs -). */
function cgiValues(req: ParsedRequest, name: string): string[] {
  const want = name.toLowerCase().replace(/_/g, '-');
  return req.headers.filter(([n]) => n.toLowerCase().replace(/_/g, '-') === want).map(([, v]) => v);
}

describe('identity headers cannot be spoofed', () => {
  it.each([
    ['canonical case', 'X-User-Id: admin\r\n'],
    ['lower case', 'x-user-id: admin\r\n'],
    ['upper case', 'X-USER-ID: admin\r\n'],
    ['twice', 'X-User-Id: admin\r\nX-User-Id: root\r\n'],
    ['a list value', 'X-User-Id: admin, alice\r\n'],
    ['underscores', 'X_User_Id: admin\r\n'],
    ['lower-case underscores', 'x_user_id: admin\r\n'],
    ['mixed dash and underscore', 'X-User_Id: admin\r\n'],
    ['underscores and dashes twice', 'X_USER_ID: admin\r\nx-user-id: root\r\n'],
    ['a second forwarded claim spoofed', 'X-User-Role: admin\r\nX_User_Role: admin\r\n'],
  ])('%s', async (_name, spoof) => {
    const r = await send('/api/me', `Authorization: Bearer ${token()}\r\n${spoof}`);
    expect(r.responses[0]!.status).toBe(200);
    const req = only();
    expect(cgiValues(req, 'x-user-id')).toEqual(['alice']);
    // The token carries no role claim: nothing may claim one for it.
    expect(cgiValues(req, 'x-user-role')).toEqual([]);
  });

  it('sends nothing upstream for an unauthenticated request carrying identity headers', async () => {
    const r = await send('/api/me', 'X-User-Id: admin\r\nX_User_Id: admin\r\n');
    expect(r.responses[0]!.status).toBe(401);
    expect(rec.requests()).toEqual([]);
  });

  it('refuses an identity header with whitespace before the colon', async () => {
    const r = await sendRaw(gw.port, `GET /api/me HTTP/1.1\r\n${H}Authorization: Bearer ${token()}\r\nX-User-Id : admin\r\n\r\n`);
    expect(r.responses.map((x) => x.status)).toEqual([400]);
    expect(rec.requests()).toEqual([]);
  });

  it.each([
    ['CR LF', 'alice\r\nx-admin: true'],
    ['bare LF', 'alice\nx-admin: true'],
    ['NUL', 'alice\0'],
    ['DEL', 'alice\x7f'],
  ])('never forwards a claim containing %s as a header', async (_name, sub) => {
    const r = await send('/api/me', `Authorization: Bearer ${token({ sub })}\r\n`);
    expect(r.responses[0]!.status).not.toBe(200);
    expect(r.responses[0]!.status).toBeLessThan(500);
    expect(r.text.toLowerCase()).not.toContain('x-admin');
    expect(rec.requests()).toEqual([]);
  });
});

describe('Connection cannot remove headers the gateway sets', () => {
  it('keeps identity, request id, forwarding and Host headers listed in Connection', async () => {
    const r = await send('/api/me', `Authorization: Bearer ${token()}\r\nConnection: keep-alive, x-user-id, x-request-id, x-forwarded-for, x-forwarded-proto, x-forwarded-host, host\r\n`);
    expect(r.responses[0]!.status).toBe(200);
    const req = only();
    expect(req.all('x-user-id')).toEqual(['alice']);
    expect(req.all('x-request-id')).toHaveLength(1);
    expect(req.all('x-request-id')[0]).toBe(r.responses[0]!.header('x-request-id'));
    expect(req.all('x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(req.all('x-forwarded-proto')).toEqual(['http']);
    expect(req.all('x-forwarded-host')).toEqual(['gw.test']);
    expect(req.all('host')).toEqual([`127.0.0.1:${rec.port}`]);
    // The client's Connection header itself is hop-by-hop.
    for (const v of req.all('connection')) expect(['keep-alive', 'close']).toContain(v.toLowerCase());
  });

  it('still frames the body when Connection lists Content-Length (buffered and streamed bodies)', async () => {
    for (const size of [100, 200_000]) {
      rec.reset();
      const body = 'x'.repeat(size);
      const r = await send('/open/upload', 'Connection: content-length, transfer-encoding\r\n', { method: 'POST', body });
      expect(r.responses[0]!.status).toBe(200);
      expect(only().body.length).toBe(size);
    }
  });
});

describe('forwarding headers from an untrusted client are replaced', () => {
  const forged = [
    'X-Forwarded-For: 1.2.3.4',
    'X-Forwarded-For: 5.6.7.8',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Host: evil.example',
    'X-Forwarded-Port: 443',
    'X-Forwarded-Prefix: /admin',
    'X-Forwarded-Server: evil',
    'X-Real-IP: 1.2.3.4',
    'Forwarded: for=1.2.3.4;proto=https;host=evil.example',
    'X_Forwarded_For: 1.2.3.4',
    'x_real_ip: 1.2.3.4',
    'X-Original-URL: /admin/secret',
    'X-Rewrite-URL: /admin/secret',
    'X-Request-Id: forged-id',
    'X_Request_Id: forged-id',
  ].join('\r\n') + '\r\n';

  it('drops every forged forwarding header and sets its own', async () => {
    const r = await send('/open/x', forged);
    expect(r.responses[0]!.status).toBe(200);
    const req = only();
    expect(cgiValues(req, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(cgiValues(req, 'x-forwarded-proto')).toEqual(['http']);
    expect(cgiValues(req, 'x-forwarded-host')).toEqual(['gw.test']);
    for (const name of ['x-forwarded-port', 'x-forwarded-prefix', 'x-forwarded-server', 'x-real-ip', 'forwarded', 'x-original-url', 'x-rewrite-url']) {
      expect(cgiValues(req, name), name).toEqual([]);
    }
    const ids = cgiValues(req, 'x-request-id');
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(UUID);
    expect(r.responses[0]!.header('x-request-id')).toBe(ids[0]);
  });

  it('appends to the chain of a trusted proxy instead', async () => {
    const r = await send('/open/x', 'X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\n', { port: trusting.port });
    expect(r.responses[0]!.status).toBe(200);
    const req = only();
    expect(req.all('x-forwarded-for')).toEqual(['1.2.3.4, 127.0.0.1']);
    expect(req.all('x-forwarded-proto')).toEqual(['https']);
    expect(req.all('x-forwarded-host')).toEqual(['shop.example']);
  });
});

describe('Host', () => {
  it.each([
    ['two Host headers', 'GET /open/x HTTP/1.1\r\nHost: gw.test\r\nHost: evil.example\r\n\r\n'],
    ['two Host headers, different case', 'GET /open/x HTTP/1.1\r\nHost: gw.test\r\nhOST: gw.test\r\n\r\n'],
    ['no Host in HTTP/1.1', 'GET /open/x HTTP/1.1\r\n\r\n'],
    ['an empty Host', 'GET /open/x HTTP/1.1\r\nHost: \r\n\r\n'],
    ['a Host with a path', 'GET /open/x HTTP/1.1\r\nHost: evil.example/admin\r\n\r\n'],
    ['a Host with userinfo', 'GET /open/x HTTP/1.1\r\nHost: user@evil.example\r\n\r\n'],
    ['a Host with a space', 'GET /open/x HTTP/1.1\r\nHost: gw.test evil.example\r\n\r\n'],
    ['a Host with a non-numeric port', 'GET /open/x HTTP/1.1\r\nHost: gw.test:80x\r\n\r\n'],
    ['an unterminated IPv6 literal', 'GET /open/x HTTP/1.1\r\nHost: [::1\r\n\r\n'],
    ['a Host with non-ASCII bytes', 'GET /open/x HTTP/1.1\r\nHost: gw\xe9.test\r\n\r\n'],
  ])('400 and close on %s', async (_name, payload) => {
    const r = await sendRaw(gw.port, payload);
    expect(r.responses.map((x) => x.status)).toEqual([400]);
    expect(r.closed).toBe(true);
    expect(rec.requests()).toEqual([]);
  });

  it.each([
    ['two Host headers', 'Host: gw.test\r\nHost: evil.example\r\n'],
    ['a Host with a path', 'Host: evil.example/admin\r\n'],
  ])('400 on a WebSocket upgrade with %s, never reaching the upstream', async (_name, host) => {
    const r = await sendRaw(gw.port, `GET /open/ws HTTP/1.1\r\n${host}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    expect(r.responses.map((x) => x.status)).toEqual([400]);
    expect(r.closed).toBe(true);
    expect(rec.requests()).toEqual([]);
  });

  it.each([['GW.Test:8080'], ['[::1]:8080'], ['10.0.0.1'], ['gw.test.']])('accepts Host %s', async (host) => {
    const r = await sendRaw(gw.port, `GET /open/x HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { until: 1 });
    expect(r.responses[0]!.status).toBe(200);
    expect(only().header('x-forwarded-host')).toBe(host);
  });
});

describe('size limits', () => {
  async function expectRefused(payload: string, status: number) {
    const r = await sendRaw(gw.port, payload, { deadline: 5000 });
    expect(r.responses.map((x) => x.status)).toEqual([status]);
    expect(r.closed).toBe(true);
    expect(rec.requests()).toEqual([]);
    const next = await send('/open/next');
    expect(next.responses[0]!.status).toBe(200);
  }

  it('431 for one header larger than maxHeaderSize (16 KiB)', async () => {
    await expectRefused(`GET /open/x HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431);
  });

  it('431 for many headers that add up past maxHeaderSize', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${'b'.repeat(500)}\r\n`).join('');
    await expectRefused(`GET /open/x HTTP/1.1\r\n${H}${lines}\r\n`, 431);
  });

  it('431 for more than maxHeaders (100) headers', async () => {
    const lines = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('');
    await expectRefused(`GET /open/x HTTP/1.1\r\n${H}${lines}\r\n`, 431);
  });

  it('431 for thousands of tiny headers', async () => {
    const lines = Array.from({ length: 3000 }, () => `A: \r\n`).join('');
    await expectRefused(`GET /open/x HTTP/1.1\r\n${H}${lines}\r\n`, 431);
  });

  it('accepts exactly maxHeaders headers', async () => {
    const lines = Array.from({ length: 99 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = await sendRaw(gw.port, `GET /open/x HTTP/1.1\r\n${H}${lines}\r\n`, { until: 1 });
    expect(r.responses[0]!.status).toBe(200);
  });

  it('414 for a URL longer than maxUrlLength (8 KiB)', async () => {
    await expectRefused(`GET /open/${'a'.repeat(9000)} HTTP/1.1\r\n${H}\r\n`, 414);
  });

  it('414 for a URL longer than the whole header limit', async () => {
    await expectRefused(`GET /open/${'a'.repeat(40_000)} HTTP/1.1\r\n${H}\r\n`, 414);
  });

  it('414 for a long query string', async () => {
    await expectRefused(`GET /open/x?q=${'a'.repeat(9000)} HTTP/1.1\r\n${H}\r\n`, 414);
  });
});

describe('hop-by-hop headers cross in neither direction', () => {
  it('strips hop-by-hop request headers and the headers Connection names', async () => {
    const r = await send(
      '/open/x',
      'TE: trailers\r\nKeep-Alive: timeout=300\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nTrailer: X-Sum\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n',
    );
    expect(r.responses[0]!.status).toBe(200);
    const req = only();
    for (const name of ['te', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'upgrade', 'http2-settings', 'trailer', 'x-hop']) {
      expect(req.all(name), name).toEqual([]);
    }
  });

  it('an upstream Connection header cannot remove response headers the gateway adds', async () => {
    rec.respond((_req, socket) => socket.write('HTTP/1.1 200 OK\r\nConnection: keep-alive, Strict-Transport-Security, X-Frame-Options, X-Upstream-Hop\r\nX-Upstream-Hop: 1\r\nContent-Length: 2\r\n\r\nok'));
    const r = await send('/secured/x');
    const res = r.responses[0]!;
    expect(res.status).toBe(200);
    expect(res.header('strict-transport-security')).toBe('max-age=63072000');
    expect(res.header('x-frame-options')).toBe('DENY');
    expect(res.all('x-upstream-hop')).toEqual([]);
  });

  it('refuses an h2c upgrade instead of tunnelling it to the upstream', async () => {
    const r = await sendRaw(gw.port, `GET /open/x HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`);
    expect(r.responses.map((x) => x.status)).toEqual([400]);
    expect(r.text).not.toContain('101');
    expect(rec.requests()).toEqual([]);
  });

  it('strips hop-by-hop response headers and the headers the upstream Connection names', async () => {
    rec.respond((_req, socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal-Token\r\nX-Internal-Token: s3cret\r\nKeep-Alive: timeout=60\r\nProxy-Authenticate: Basic realm="internal"\r\nProxy-Connection: keep-alive\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\nX-Request-Id: upstream-chosen\r\nX-Session-Set: forged\r\nContent-Length: 2\r\n\r\nok',
      ),
    );
    const r = await send('/open/x');
    const res = r.responses[0]!;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
    for (const name of ['x-internal-token', 'proxy-authenticate', 'proxy-connection', 'trailer', 'upgrade', 'x-session-set']) {
      expect(res.all(name), name).toEqual([]);
    }
    // Keep-Alive and Connection on the client connection are the gateway's own, never the upstream's.
    expect(res.all('keep-alive')).not.toContain('timeout=60');
    expect(res.all('connection').join(',').toLowerCase()).not.toContain('x-internal-token');
    expect(res.all('x-request-id')).toHaveLength(1);
    expect(res.header('x-request-id')).toMatch(UUID);
    expect(r.text).not.toContain('s3cret');
  });
});

describe('TRACE', () => {
  it('is refused with 405: it would echo identity and internal headers back to the client', async () => {
    const r = await send('/api/me', `Authorization: Bearer ${token()}\r\n`, { method: 'TRACE' });
    expect(r.responses.map((x) => x.status)).toEqual([405]);
    expect(r.responses[0]!.json().error.code).toBe('SY_ERR_METHOD_NOT_ALLOWED');
    expect(rec.requests()).toEqual([]);
  });
});

describe('Expect', () => {
  it('answers 100-continue itself and forwards the body without the Expect header (regression: it was a 502)', async () => {
    const r = await sendRaw(gw.port, [`POST /open/up HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`, 'hello'], { until: 1 });
    expect(r.text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
    expect(r.responses.map((x) => x.status)).toEqual([200]);
    const req = only();
    expect(req.body.toString()).toBe('hello');
    expect(req.all('expect')).toEqual([]);
  });

  it.each([
    ['unauthenticated', '/api/me', 100, 401],
    ['over the body limit', '/open/up', 20 * 1024 * 1024, 413],
    ['a refused path', '/open/a;b', 100, 400],
  ])('sends no 100 to a request refused as %s, so the client never uploads its body', async (_name, path, length, status) => {
    const r = await sendRaw(gw.port, `POST ${path} HTTP/1.1\r\n${H}Content-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`, { until: 1 });
    expect(r.text).not.toContain('100 Continue');
    expect(r.responses.map((x) => x.status)).toEqual([status]);
    expect(rec.requests()).toEqual([]);
  });

  it('417 for an expectation it cannot meet, and the upstream gets nothing', async () => {
    const r = await sendRaw(gw.port, `POST /open/up HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: teapot\r\n\r\nhello`, { until: 1 });
    expect(r.responses.map((x) => x.status)).toEqual([417]);
    expect(rec.requests()).toEqual([]);
  });
});

describe('redirects from an upstream to itself', () => {
  async function redirect(path: string, location: string, header = 'Location', host = 'gw.test'): Promise<string | undefined> {
    rec.respond((_req, socket) => socket.write(`HTTP/1.1 302 Found\r\n${header}: ${location}\r\nContent-Length: 0\r\n\r\n`));
    const r = await sendRaw(gw.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { until: 1 });
    expect(r.responses[0]!.status).toBe(302);
    return r.responses[0]!.header(header);
  }

  it('rewrites an absolute Location naming the target to the client-facing origin', async () => {
    expect(await redirect('/open/x', `http://127.0.0.1:${rec.port}/login?next=/x`)).toBe('http://gw.test/login?next=/x');
    expect(await redirect('/open/x', `HTTP://127.0.0.1:${rec.port}/Login`)).toBe('http://gw.test/Login');
    expect(await redirect('/open/x', `http://127.0.0.1:${rec.port}`)).toBe('http://gw.test/');
    expect(await redirect('/open/x', `http://127.0.0.1:${rec.port}?a=1`)).toBe('http://gw.test/?a=1');
    expect(await redirect('/open/x', `https://127.0.0.1:${rec.port}/secure`)).toBe('http://gw.test/secure');
    expect(await redirect('/open/x', `//127.0.0.1:${rec.port}/x`)).toBe('http://gw.test/x');
    expect(await redirect('/open/x', `http://127.0.0.1:${rec.port}/x`, 'Location', 'shop.example:8443')).toBe('http://shop.example:8443/x');
  });

  it('rewrites Content-Location the same way', async () => {
    expect(await redirect('/open/x', `http://127.0.0.1:${rec.port}/doc/1`, 'Content-Location')).toBe('http://gw.test/doc/1');
  });

  it('puts a stripped route prefix back', async () => {
    expect(await redirect('/svc/x', `http://127.0.0.1:${rec.port}/login`)).toBe('http://gw.test/svc/login');
  });

  it('rewrites the literal Host a pool sends upstream', async () => {
    expect(await redirect('/named/x', 'http://api.internal/next')).toBe('http://gw.test/next');
    expect(await redirect('/named/x', 'http://api.internal:80/next')).toBe('http://gw.test/next');
  });

  it('uses the origin a trusted proxy reports', async () => {
    rec.respond((_req, socket) => socket.write(`HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:${rec.port}/x\r\nContent-Length: 0\r\n\r\n`));
    const r = await send('/open/x', 'X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\n', { port: trusting.port });
    expect(r.responses[0]!.header('location')).toBe('https://shop.example/x');
  });

  it.each([
    ['a relative path', '/login'],
    ['another site', 'https://idp.example/authorize?x=1'],
    ['another port of the same host', `http://127.0.0.1:${1}/x`],
    ['a host that only starts like the target', `http://127.0.0.1:${'PORT'}0/x`],
    ['a host with the target as userinfo', `http://127.0.0.1:${'PORT'}@evil.example/x`],
  ])('leaves %s unchanged', async (_name, loc) => {
    const location = loc.replace('PORT', String(rec.port));
    expect(await redirect('/open/x', location)).toBe(location);
  });
});
