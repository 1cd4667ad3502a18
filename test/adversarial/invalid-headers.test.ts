/**
 * 13.6: header names a server behind the gateway reads as another header.
 * PHP, WSGI, Rack and CGI read `X.User.Id`, `X_User_Id` and `X-User-Id` as
 * the same variable, so a client sending `X.User.Id: admin` next to a valid
 * token used to reach the upstream as `x.user.id: admin` beside the
 * gateway's `x-user-id: alice`. Raw clients (HTTP/1.1 over TCP, HTTP/2 over
 * TLS) send exotic names on jwt-protected and plain routes; the recorder
 * upstream shows byte for byte what got through, under each
 * `limits.invalidHeaders` setting: drop (the default), reject, allow.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { foldHeaderName, plainHeaderName } from '../../src/http/header-names.js';
import { headerNameProblem } from '../../src/plugins/builtin/internal/http-names.js';
import { compileClaimRules } from '../../src/plugins/builtin/jwt/claims.js';
import type { JwtOptions } from '../../src/plugins/builtin/jwt/schema.js';
import { sendRaw, startRecorder, type ParsedRequest, type Recorder } from './helpers.js';

const SECRET = 'invalid-headers-test-secret-0123456789abcdef';
const TOKEN = jwt.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS256', expiresIn: '10m' });
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;

let rec: Recorder;
const gw: Record<'drop' | 'reject' | 'allow', TestGateway> = {} as never;
let tlsDrop: TestGateway;
let tlsReject: TestGateway;
const dir = mkdtempSync(join(tmpdir(), 'switchyard-invalid-headers-'));
let ca: Buffer;

function routeFiles(url: string) {
  return {
    'r.yaml': {
      upstreams: { rec: { targets: [{ url }] } },
      routes: [
        { id: 'api', match: { path: '/api/*' }, upstream: 'rec', plugins: [{ jwt: { algorithms: ['HS256'], secret: SECRET, forward: { sub: 'x-user-id', role: 'x-user-role' } } }] },
        { id: 'hdr', match: { path: '/hdr/*' }, upstream: 'rec', plugins: [{ headers: { request: { set: { 'x-tenant': 't1' }, remove: ['x-debug'] } } }] },
        { id: 'open', match: { path: '/*' }, upstream: 'rec' },
      ],
    },
  };
}

beforeAll(async () => {
  rec = await startRecorder();
  // `drop` is the default: that gateway sets nothing.
  gw.drop = await startGateway({ gateway: {}, routeFiles: routeFiles(rec.url) });
  gw.reject = await startGateway({ gateway: { limits: { invalidHeaders: 'reject' } }, routeFiles: routeFiles(rec.url) });
  gw.allow = await startGateway({ gateway: { limits: { invalidHeaders: 'allow' } }, routeFiles: routeFiles(rec.url) });
  const cert = join(dir, 'gw.crt');
  const key = join(dir, 'gw.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gw.test', '-addext', 'subjectAltName=DNS:gw.test'], { stdio: 'ignore' });
  ca = readFileSync(cert);
  tlsDrop = await startGateway({ gateway: { listen: { tls: { cert, key } } }, routeFiles: routeFiles(rec.url) });
  tlsReject = await startGateway({ gateway: { listen: { tls: { cert, key } }, limits: { invalidHeaders: 'reject' } }, routeFiles: routeFiles(rec.url) });
});
afterAll(async () => {
  for (const g of [gw.drop, gw.reject, gw.allow, tlsDrop, tlsReject]) await g?.close();
  await rec?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => rec.reset());

/** send sends one HTTP/1.1 request with extra raw header lines to a gateway and waits for one response. */
function send(g: TestGateway, path: string, lines: string) {
  return sendRaw(g.port, `GET ${path} HTTP/1.1\r\nHost: gw.test\r\n${lines}\r\n`, { until: 1 });
}

/** only returns the single request the recorder saw. */
function only(): ParsedRequest {
  const seen = rec.requests();
  expect(seen).toHaveLength(1);
  expect(rec.malformed()).toEqual([]);
  return seen[0]!;
}

/**
 * exact is the request the upstream received, byte for byte, with the values
 * that change on every run (target port, request id, trace id) replaced by
 * placeholders. The request id is the one the client got back.
 */
function exact(req: ParsedRequest, requestId: string): string {
  expect(req.header('x-request-id')).toBe(requestId);
  return req.raw
    .toString('latin1')
    .replace(`x-request-id: ${requestId}\r\n`, 'x-request-id: ID\r\n')
    .replace(/^host: 127\.0\.0\.1:\d+\r\n/m, 'host: UPSTREAM\r\n')
    .replace(/^traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-01\r\n/m, 'traceparent: TP\r\n')
    .replace(TOKEN, 'TOKEN');
}

/** upstream is what a GET through a plain-HTTP gateway should look like upstream: `client` lines, then the gateway's, then `extra`. */
const upstream = (path: string, client: string, extra = '', proto = 'http') =>
  `GET ${path} HTTP/1.1\r\nhost: UPSTREAM\r\nconnection: keep-alive\r\n${client}x-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: ${proto}\r\nx-forwarded-host: gw.test\r\nx-request-id: ID\r\ntraceparent: TP\r\n${extra}\r\n`;

/** Spellings of x-user-id and x-user-role that CGI-style servers read as those headers. */
const SPOOFS: Array<[string, string]> = [
  ['dots', 'X.User.Id: admin\r\n'],
  ['lower-case dots', 'x.user.id: admin\r\n'],
  ['upper-case dots', 'X.USER.ID: admin\r\n'],
  ['underscores', 'X_User_Id: admin\r\n'],
  ['dash and underscore', 'X-User_Id: admin\r\n'],
  ['dot and dash', 'X.User-Id: admin\r\n'],
  ['dot and underscore, twice', 'X.User_Id: admin\r\nx_user.id: root\r\n'],
  ['other token characters', "X+User+Id: admin\r\nX~User~Id: admin\r\nX'User'Id: admin\r\nX|User|Id: admin\r\n"],
  ['trailing dot', 'X-User-Id.: admin\r\n'],
  ['the role claim the token lacks', 'X.User.Role: admin\r\nX_User_Role: admin\r\n'],
];

/** Header names node's HTTP/1 parser refuses outright (not tokens): nothing reaches any upstream, whatever the setting. */
const NOT_TOKENS: Array<[string, string]> = [
  ['a Latin-1 byte', 'X-\xdcser-Id: admin\r\n'],
  ['UTF-8 bytes', 'X-\xc3\x9cser-Id: admin\r\n'],
  ['a high byte alone', 'X-User-Id\x80: admin\r\n'],
  ['DEL', 'X-User\x7f-Id: admin\r\n'],
  ['a space inside', 'X User Id: admin\r\n'],
  ['a slash', 'X/User/Id: admin\r\n'],
  ['an @', 'X@User: admin\r\n'],
];

describe('13.6: dot-spelled identity headers never reach the upstream (limits.invalidHeaders: drop, the default)', () => {
  it.each(SPOOFS)('jwt route, %s: the upstream gets exactly the token and the gateway’s x-user-id', async (_name, spoof) => {
    const r = await send(gw.drop, '/api/me', `${AUTH}${spoof}`);
    expect(r.responses[0]!.status).toBe(200);
    expect(exact(only(), r.responses[0]!.header('x-request-id')!)).toBe(upstream('/api/me', 'authorization: Bearer TOKEN\r\n', 'x-user-id: alice\r\n'));
  });

  it('plain route: names outside letters, digits and "-" are dropped, the others pass untouched and in order', async () => {
    const r = await send(gw.drop, '/open/x', 'X.Custom: 1\r\nAccept: */*\r\nX_Custom: 2\r\nX-Custom: 3\r\nx.forwarded.for: 6.6.6.6\r\nX-Request_Id: forged\r\nContent_Length: 5\r\nTransfer.Encoding: chunked\r\nX-Ok-9: yes\r\n');
    expect(r.responses[0]!.status).toBe(200);
    expect(exact(only(), r.responses[0]!.header('x-request-id')!)).toBe(upstream('/open/x', 'accept: */*\r\nx-custom: 3\r\nx-ok-9: yes\r\n'));
  });

  it('headers plugin route: client spellings of the header it sets or removes are dropped', async () => {
    const r = await send(gw.drop, '/hdr/x', 'X_Tenant: evil\r\nx.tenant: evil\r\nX.Debug: 1\r\nx_debug: 1\r\n');
    expect(r.responses[0]!.status).toBe(200);
    expect(exact(only(), r.responses[0]!.header('x-request-id')!)).toBe(upstream('/hdr/x', '', 'x-tenant: t1\r\n'));
  });

  it('WebSocket upgrade: the same names are dropped from the handshake sent upstream', async () => {
    const r = await sendRaw(
      gw.drop.port,
      'GET /open/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX.User.Id: admin\r\nX_User_Id: admin\r\n\r\n',
      { until: 1 },
    );
    // The recorder answers 200, not 101: the client gets a 502 (websocket-not-upgraded.test.ts); what matters is the handshake sent.
    expect(r.responses.map((x) => x.status)).toEqual([502]);
    const req = only();
    const names = req.headers.map(([n]) => n);
    expect(names.filter((n) => !plainHeaderName(n))).toEqual([]);
    expect(req.header('upgrade')).toBe('websocket');
  });

  it.each(NOT_TOKENS)('a name with %s is refused by the parser with 400', async (_name, line) => {
    for (const g of [gw.drop, gw.reject, gw.allow]) {
      const r = await send(g, '/api/me', `${AUTH}${line}`);
      expect(r.responses.map((x) => x.status)).toEqual([400]);
    }
    expect(rec.requests()).toEqual([]);
    expect(rec.bytes().length).toBe(0);
  });
});

describe('13.6: limits.invalidHeaders: reject answers 400 before routing', () => {
  it.each(SPOOFS)('jwt route, %s: 400 SY_ERR_BAD_REQUEST, the upstream gets nothing', async (_name, spoof) => {
    const r = await send(gw.reject, '/api/me', `${AUTH}${spoof}`);
    expect(r.responses).toHaveLength(1);
    const res = r.responses[0]!;
    expect(res.status).toBe(400);
    expect(res.json().error.code).toBe('SY_ERR_BAD_REQUEST');
    expect(res.json().error.requestId).toBe(res.header('x-request-id'));
    expect(res.header('connection')).toBe('close');
    expect(rec.bytes().length).toBe(0);
  });

  it('plain route and WebSocket upgrade: refused too; plain names pass', async () => {
    expect((await send(gw.reject, '/open/x', 'X.Custom: 1\r\n')).responses.map((x) => x.status)).toEqual([400]);
    const ws = await sendRaw(gw.reject.port, 'GET /open/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX_User_Id: admin\r\n\r\n', { until: 1 });
    expect(ws.responses.map((x) => x.status)).toEqual([400]);
    expect(rec.bytes().length).toBe(0);
    const ok = await send(gw.reject, '/api/me', `${AUTH}X-Custom-2: a\r\n`);
    expect(ok.responses[0]!.status).toBe(200);
    expect(exact(only(), ok.responses[0]!.header('x-request-id')!)).toBe(upstream('/api/me', 'authorization: Bearer TOKEN\r\nx-custom-2: a\r\n', 'x-user-id: alice\r\n'));
  });
});

describe('13.6: limits.invalidHeaders: allow forwards them, but never a spelling of a header the gateway or a plugin sets', () => {
  // `X-User-Id.` reads as HTTP_X_USER_ID_ (another variable), so `allow` forwards it: that case is only for drop and reject.
  it.each(SPOOFS.filter(([name]) => name !== 'trailing dot'))('jwt route, %s: dropped all the same (compared folded)', async (_name, spoof) => {
    const r = await send(gw.allow, '/api/me', `${AUTH}${spoof}`);
    expect(r.responses[0]!.status).toBe(200);
    expect(exact(only(), r.responses[0]!.header('x-request-id')!)).toBe(upstream('/api/me', 'authorization: Bearer TOKEN\r\n', 'x-user-id: alice\r\n'));
  });

  it('plain route: other names pass as sent (lower-cased); forwarding, framing and request-id spellings do not', async () => {
    const r = await send(gw.allow, '/open/x', 'X.Custom: 1\r\nX_Custom: 2\r\nx.forwarded.for: 6.6.6.6\r\nX_Real_IP: 6.6.6.6\r\nX-Request_Id: forged\r\nTransfer.Encoding: chunked\r\nProxy_Connection: x\r\nHost_: evil\r\nX-Ok-9: yes\r\n');
    expect(r.responses[0]!.status).toBe(200);
    expect(exact(only(), r.responses[0]!.header('x-request-id')!)).toBe(upstream('/open/x', 'x.custom: 1\r\nx_custom: 2\r\nhost_: evil\r\nx-ok-9: yes\r\n'));
  });

  it('headers plugin route: spellings of what it sets or removes are dropped', async () => {
    const r = await send(gw.allow, '/hdr/x', 'X_Tenant: evil\r\nx.tenant: evil\r\nX.Debug: 1\r\nx_debug: 1\r\nX.Other: 1\r\n');
    expect(r.responses[0]!.status).toBe(200);
    expect(exact(only(), r.responses[0]!.header('x-request-id')!)).toBe(upstream('/hdr/x', 'x.other: 1\r\n', 'x-tenant: t1\r\n'));
  });
});

describe('13.6: HTTP/2', () => {
  /** h2get sends one GET over a fresh HTTP/2 session and returns the status and request id. */
  async function h2get(g: TestGateway, path: string, extra: http2.OutgoingHttpHeaders): Promise<{ status: number; id: string; body: string }> {
    const session = http2.connect(`https://127.0.0.1:${g.port}`, { ca, servername: 'gw.test' });
    try {
      return await new Promise((resolve, reject) => {
        session.on('error', reject);
        const req = session.request({ ':method': 'GET', ':path': path, ':authority': 'gw.test', ...extra });
        let head: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        req.on('response', (h) => (head = h));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve({ status: Number(head[':status']), id: String(head['x-request-id']), body: Buffer.concat(chunks).toString() }));
        req.on('error', reject);
        req.end();
      });
    } finally {
      session.close();
    }
  }

  const spoof = { authorization: `Bearer ${TOKEN}`, 'x.user.id': 'admin', x_user_id: 'admin', 'x-user_id': 'admin', 'x.custom': '1', 'x-custom': '2' };

  it('drop: the jwt route upstream gets exactly the token, the plain name and the gateway’s x-user-id', async () => {
    const r = await h2get(tlsDrop, '/api/me', spoof);
    expect(r.status).toBe(200);
    expect(exact(only(), r.id)).toBe(upstream('/api/me', 'authorization: Bearer TOKEN\r\nx-custom: 2\r\n', 'x-user-id: alice\r\n', 'https'));
  });

  it('reject: 400 on the stream, the upstream gets nothing', async () => {
    const r = await h2get(tlsReject, '/api/me', spoof);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe('SY_ERR_BAD_REQUEST');
    expect(rec.bytes().length).toBe(0);
  });
});

describe('13.6: configured names are compared folded', () => {
  it('foldHeaderName reads a name as CGI-style servers do, and plainHeaderName scans by table', () => {
    expect(['X.User.Id', 'x_user_id', 'X-User_Id', 'x+user~id', 'x-user-id'].map(foldHeaderName)).toEqual(Array(5).fill('x-user-id'));
    const plain = 'x-user-id';
    expect(foldHeaderName(plain)).toBe(plain);
    expect(['x-user-id', 'X-User-Id', 'a1-B2'].every(plainHeaderName)).toBe(true);
    expect(['x.user.id', 'x_user_id', '', 'x-üser', 'x user', ':path'].some(plainHeaderName)).toBe(false);
  });

  it('a plugin cannot set a core or hop-by-hop header in another spelling', () => {
    expect(headerNameProblem('X_Forwarded_For', 'request')).toMatch(/set by the gateway itself \(servers read it as "x-forwarded-for"\)/);
    expect(headerNameProblem('Transfer.Encoding', 'request')).toMatch(/hop-by-hop/);
    expect(headerNameProblem('x_tenant', 'request')).toBeUndefined();
  });

  it('jwt refuses two claims sent as spellings of one header', () => {
    const opts = { forward: { sub: 'x-user-id', uid: 'X_User_Id' }, claims: {}, requiredClaims: [] } as unknown as JwtOptions;
    expect(() => compileClaimRules(opts)).toThrow(/same header "x-user-id"/);
  });
});
