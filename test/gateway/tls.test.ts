import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { createGateway, type Gateway } from '../../src/gateway/gateway.js';
import { startUpstream, waitFor, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** makeCert writes a self-signed EC certificate and key with the given SAN entries; returns the PEM paths. */
function makeCert(name: string, cn: string, san: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  return { cert, key };
}

const fingerprint = (pemFile: string) => new X509Certificate(readFileSync(pemFile)).fingerprint256;

interface Peer {
  cn: string;
  san: string;
  fingerprint: string;
  alpn: string | false;
  authorized: boolean;
}

/** handshake connects with the given SNI name and ALPN offer and reports the server's certificate. */
function handshake(port: number, servername: string | undefined, ca: Buffer[], alpn = ['h2', 'http/1.1']): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), ca, rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const c = s.getPeerCertificate();
      // Chain and name, as a browser would check them.
      const nameOk = servername === undefined || tls.checkServerIdentity(servername, c) === undefined;
      resolve({ cn: c.subject.CN as string, san: c.subjectaltname ?? '', fingerprint: c.fingerprint256, alpn: s.alpnProtocol ?? false, authorized: s.authorized && nameOk });
      s.end();
    });
    s.on('error', reject);
  });
}

interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers);
    let head: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks).toString() }));
    req.on('error', reject);
    req.end(body);
  });
}

function h1request(port: number, servername: string, ca: Buffer[], path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, servername, ca, path, headers: { host: servername, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), alpn: (res.socket as tls.TLSSocket).alpnProtocol ?? false }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** plain sends one HTTP/1.1 request over a raw socket and returns the response head. */
function plain(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(head));
    let out = '';
    s.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\r\n\r\n')) {
        resolve(out);
        s.destroy();
      }
    });
    s.on('error', reject);
  });
}

describe('TLS front door', () => {
  const a = makeCert('a', 'a.test', 'DNS:a.test,DNS:*.a.test');
  const b = makeCert('b', 'b.test', 'DNS:b.test');
  const a2 = makeCert('a2', 'a.test', 'DNS:a.test,DNS:*.a.test'); // the renewed certificate of a.test
  const ca = [a.cert, b.cert, a2.cert].map((f) => readFileSync(f));
  const aPrint = fingerprint(a.cert);
  const bPrint = fingerprint(b.cert);
  const a2Print = fingerprint(a2.cert);
  // The gateway reads these paths; the test replaces their contents.
  const live = { aCert: join(dir, 'live-a.crt'), aKey: join(dir, 'live-a.key'), bCert: join(dir, 'live-b.crt'), bKey: join(dir, 'live-b.key') };
  let up: TestUpstream;
  let wss: WebSocketServer;
  let gw: Gateway;
  let port: number;
  let redirectPort: number;
  const logs = captureLog();

  beforeAll(async () => {
    writeFileSync(live.aCert, readFileSync(a.cert));
    writeFileSync(live.aKey, readFileSync(a.key));
    writeFileSync(live.bCert, readFileSync(b.cert));
    writeFileSync(live.bKey, readFileSync(b.key));
    up = await startUpstream('svc', (req, res, body, self) => {
      if (req.url === '/svc/login') {
        res.writeHead(200, { 'x-session-set': JSON.stringify({ sub: 'alice' }), 'content-length': 2 }).end('ok');
        return;
      }
      const out = JSON.stringify({ upstream: self.name, method: req.method, url: req.url, headers: req.headers, bodyLength: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out), 'set-cookie': ['one=1', 'two=2'] }).end(out);
    });
    wss = new WebSocketServer({ server: up.server });
    wss.on('connection', (ws, req) => {
      ws.send(`proto=${req.headers['x-forwarded-proto']}`);
      ws.on('message', (m) => ws.send(m.toString()));
    });
    gw = await createGateway({
      logger: logs.logger,
      gateway: {
        listen: {
          host: '127.0.0.1',
          port: 0,
          redirectHttp: 0,
          tls: { certificates: [{ cert: live.aCert, key: live.aKey }, { cert: live.bCert, key: live.bKey }], recheck: 0 },
        },
        admin: { enabled: false },
        reload: { debounce: '50ms' },
      },
      routeFiles: {
        'r.yaml': {
          upstreams: { svc: { targets: [{ url: up.url }] } },
          routes: [
            { id: 'svc', match: { path: '/svc/*' }, upstream: 'svc', plugins: ['session'] },
            { id: 'small', match: { path: '/small/*' }, upstream: 'svc', bodyLimit: 1000 },
            { id: 'api', match: { path: '/*', host: 'api.example.org' }, upstream: 'svc' },
            { id: 'tenants', match: { path: '/*', host: '*.tenants.example.org' }, upstream: 'svc' },
          ],
        },
      },
    });
    const ports = await gw.listen();
    port = ports.port;
    redirectPort = ports.redirectPort!;
  });

  afterAll(async () => {
    await gw?.close();
    wss?.close();
    await up?.close();
  });

  describe('SNI', () => {
    it.each([
      ['a.test', 'a.test'],
      ['www.a.test', 'a.test'], // *.a.test
      ['b.test', 'b.test'],
    ])('answers %s with the certificate naming it (%s), names taken from the SAN', async (servername, cn) => {
      const p = await handshake(port, servername, ca);
      expect(p.cn).toBe(cn);
      expect(p.authorized).toBe(true);
    });

    it('answers unknown names and clients without SNI with the first certificate', async () => {
      expect((await handshake(port, 'unknown.test', ca)).fingerprint).toBe(aPrint);
      expect((await handshake(port, undefined, ca)).fingerprint).toBe(aPrint);
      // A wildcard covers one label only.
      expect((await handshake(port, 'x.y.a.test', ca)).authorized).toBe(false);
    });

    it('negotiates h2 with clients that offer it and HTTP/1.1 with the others', async () => {
      expect((await handshake(port, 'a.test', ca, ['h2', 'http/1.1'])).alpn).toBe('h2');
      expect((await handshake(port, 'a.test', ca, ['http/1.1'])).alpn).toBe('http/1.1');
    });
  });

  describe('HTTP/2', () => {
    let session: http2.ClientHttp2Session;
    beforeAll(async () => {
      session = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: 'a.test' });
      await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
    });
    afterAll(() => session?.close());

    it('proxies a request to the HTTP/1.1 upstream without pseudo-headers, with https forwarding headers', async () => {
      const r = await h2request(session, { ':method': 'GET', ':path': '/svc/hello?x=1', ':authority': 'a.test' });
      expect(r.status).toBe(200);
      expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const seen = JSON.parse(r.body);
      expect(seen.url).toBe('/svc/hello?x=1');
      expect(seen.headers['x-forwarded-proto']).toBe('https');
      expect(seen.headers['x-forwarded-host']).toBe('a.test');
      expect(seen.headers.host).toBe(`127.0.0.1:${up.port}`);
      expect(Object.keys(seen.headers).filter((h) => h.startsWith(':'))).toEqual([]);
      expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    });

    it('keeps repeated response headers (two Set-Cookie) and streams a request body', async () => {
      const body = 'x'.repeat(100_000);
      const r = await h2request(session, { ':method': 'POST', ':path': '/svc/upload', ':authority': 'a.test', 'content-type': 'text/plain' }, body);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', bodyLength: 100_000 });
      expect(r.headers['set-cookie']).toEqual(['one=1', 'two=2']);
    });

    it('counts a body without content-length against the route limit (413)', async () => {
      const ok = await h2request(session, { ':method': 'POST', ':path': '/small/ok', ':authority': 'a.test' }, 'y'.repeat(1000));
      expect(JSON.parse(ok.body).bodyLength).toBe(1000);
      const r = await h2request(session, { ':method': 'POST', ':path': '/small/big', ':authority': 'a.test' }, 'y'.repeat(5000));
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body).error.code).toBe('SY_ERR_BODY_TOO_LARGE');
      expect(r.headers.connection).toBeUndefined();
    });

    it('answers gateway errors over HTTP/2 (no connection header)', async () => {
      const r = await h2request(session, { ':method': 'GET', ':path': '/nowhere', ':authority': 'a.test' });
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body).error.code).toBe('SY_ERR_ROUTE_NOT_FOUND');
      expect(r.headers.connection).toBeUndefined();
    });

    it('routes on :authority like on Host', async () => {
      const r = await h2request(session, { ':method': 'GET', ':path': '/anything', ':authority': 'api.example.org' });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).headers['x-forwarded-host']).toBe('api.example.org');
    });

    it('runs many requests in parallel on one connection', async () => {
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => h2request(session, { ':method': 'GET', ':path': `/svc/p${i}`, ':authority': 'a.test' })));
      expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(all.map((r) => JSON.parse(r.body).url)).toEqual(Array.from({ length: 20 }, (_, i) => `/svc/p${i}`));
    });

    it('marks the session cookie Secure (req.secure is true on TLS)', async () => {
      const r = await h2request(session, { ':method': 'GET', ':path': '/svc/login', ':authority': 'a.test' });
      const cookie = ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((c) => c.startsWith('sy_session='));
      expect(cookie).toMatch(/; Secure$/);
    });
  });

  describe('HTTP/1.1 over TLS', () => {
    it('proxies with X-Forwarded-Proto https', async () => {
      const r = await h1request(port, 'b.test', ca, '/svc/one');
      expect(r.status).toBe(200);
      expect(r.alpn).toBe(false); // node's https client offers no ALPN: HTTP/1.1 fallback
      const seen = JSON.parse(r.body);
      expect(seen.headers['x-forwarded-proto']).toBe('https');
      expect(seen.headers['x-forwarded-host']).toBe('b.test');
    });

    it('ignores a client X-Forwarded-Proto from an untrusted peer', async () => {
      const r = await h1request(port, 'b.test', ca, '/svc/two', { 'x-forwarded-proto': 'http' });
      expect(JSON.parse(r.body).headers['x-forwarded-proto']).toBe('https');
    });

    it('marks the session cookie Secure', async () => {
      const r = await h1request(port, 'a.test', ca, '/svc/login');
      expect(([] as string[]).concat(r.headers['set-cookie'] ?? []).find((c) => c.startsWith('sy_session='))).toMatch(/; Secure$/);
    });

    it('upgrades WebSockets (wss) and splices them', async () => {
      // Browsers open WebSockets on an HTTP/1.1 connection (ALPN http/1.1; no RFC 8441 over h2).
      const ws = new WebSocket(`wss://127.0.0.1:${port}/svc/ws`, { ca, servername: 'a.test', headers: { host: 'a.test' }, ALPNProtocols: ['http/1.1'] });
      const messages: string[] = [];
      ws.on('message', (m) => messages.push(m.toString()));
      await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      ws.send('ping over tls');
      await waitFor(() => messages.length >= 2, { message: 'echo' });
      expect(messages).toEqual(['proto=https', 'ping over tls']);
      ws.close();
    });
  });

  describe('redirect listener', () => {
    it.each([
      ['a certificate name', 'a.test', '/svc/x?y=1', 'https://a.test:PORT/svc/x?y=1'],
      ['a wildcard certificate name', 'Www.A.test', '/', 'https://www.a.test:PORT/'],
      ['a route host, with a port', 'api.example.org:80', '/p', 'https://api.example.org:PORT/p'],
      ['a wildcard route host', 'one.tenants.example.org', '/q', 'https://one.tenants.example.org:PORT/q'],
    ])('answers 308 to https for %s', async (_name, host, path, location) => {
      const head = await plain(redirectPort, `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 0\r\n\r\n`);
      expect(head).toMatch(/^HTTP\/1\.1 308 /);
      expect(head).toContain(`location: ${location.replace('PORT', String(port))}\r\n`);
    });

    it.each([
      ['an unknown host', 'GET /x HTTP/1.1\r\nhost: evil.example\r\n\r\n'],
      ['a host that only ends like a certificate name', 'GET /x HTTP/1.1\r\nhost: eva.test\r\n\r\n'],
      ['the bare parent of a wildcard', 'GET /x HTTP/1.1\r\nhost: tenants.example.org\r\n\r\n'],
      ['an absolute-form target naming another host', 'GET http://evil.example/x HTTP/1.1\r\nhost: a.test\r\n\r\n'],
      ['a missing Host', 'GET /x HTTP/1.1\r\n\r\n'],
    ])('answers 400 to %s (never an open redirect)', async (_name, request) => {
      const head = await plain(redirectPort, request);
      expect(head).toMatch(/^HTTP\/1\.1 400 /);
      expect(head).not.toMatch(/location:/i);
    });
  });

  describe('certificate reload', () => {
    it('serves a replaced certificate to new connections without a restart', async () => {
      expect((await handshake(port, 'a.test', ca)).fingerprint).toBe(aPrint);
      // A renewer writes new files and renames them into place.
      writeFileSync(live.aKey + '.tmp', readFileSync(a2.key));
      writeFileSync(live.aCert + '.tmp', readFileSync(a2.cert));
      renameSync(live.aKey + '.tmp', live.aKey);
      renameSync(live.aCert + '.tmp', live.aCert);
      await waitFor(async () => (await handshake(port, 'a.test', ca)).fingerprint === a2Print, { message: 'the renewed certificate' });
      // Clients without SNI get the default certificate, renewed too.
      expect((await handshake(port, undefined, ca)).fingerprint).toBe(a2Print);
      expect((await handshake(port, 'b.test', ca)).fingerprint).toBe(bPrint);
      expect(logs.lines.some((l) => l.msg === 'TLS certificates reloaded')).toBe(true);
    });

    it('keeps the previous certificates when a new file is bad, and logs why', async () => {
      const failures = () => logs.lines.filter((l) => l.msg === 'TLS certificate reload failed; the previous certificates keep serving');
      const before = failures().length;
      writeFileSync(live.bCert, 'this is not a certificate\n');
      const failed = await waitFor(() => failures()[before], { message: 'the failed reload log line' });
      expect(String(failed.err)).toContain('live-b.crt');
      expect((await handshake(port, 'b.test', ca)).fingerprint).toBe(bPrint);
      // A key that does not match the certificate is refused too.
      writeFileSync(live.bCert, readFileSync(b.cert));
      writeFileSync(live.bKey, readFileSync(a.key));
      const mismatch = await waitFor(() => failures().find((l, i) => i > before && String(l.err).includes('does not belong')), { message: 'the key mismatch log line' });
      expect(String(mismatch.err)).toContain('live-b.key');
      expect((await handshake(port, 'b.test', ca)).fingerprint).toBe(bPrint);
      // Fixed: the files are the serving certificate again, so nothing is swapped.
      writeFileSync(live.bKey, readFileSync(b.key));
      expect(await gw['tls']!.reloadCertificates()).toBe(false);
      expect((await handshake(port, 'b.test', ca)).authorized).toBe(true);
    });
  });
});

describe('TLS options', () => {
  const c = makeCert('c', 'c.test', 'DNS:c.test');
  const ca = [readFileSync(c.cert)];

  it('serves HTTP/1.1 only with http2: false, writes publicHttpsPort in redirects, and shuts down gracefully with a request in flight', async () => {
    let release: (() => void) | undefined;
    const up = await startUpstream('slow', (_req, res) => {
      release = () => res.writeHead(200, { 'content-length': 4 }).end('done');
    });
    const gw = await createGateway({
      logger: pino({ level: 'silent' }),
      gateway: {
        listen: { host: '127.0.0.1', port: 0, redirectHttp: 0, publicHttpsPort: 443, tls: { cert: c.cert, key: c.key, http2: false } },
        admin: { enabled: false },
      },
      routeFiles: { 'r.yaml': { upstreams: { s: { targets: [{ url: up.url }] } }, routes: [{ id: 's', match: { path: '/*' }, upstream: 's' }] } },
    });
    try {
      const { port, redirectPort } = await gw.listen();
      expect((await handshake(port, 'c.test', ca, ['h2', 'http/1.1'])).alpn).toBe('http/1.1');
      const head = await plain(redirectPort!, 'GET /z HTTP/1.1\r\nhost: c.test\r\n\r\n');
      expect(head).toContain('location: https://c.test/z\r\n');
      const pending = h1request(port, 'c.test', ca, '/slow');
      await waitFor(() => release !== undefined, { message: 'the request at the upstream' });
      const closed = gw.close();
      release!();
      expect((await pending).body).toBe('done');
      await closed;
    } finally {
      await gw.close();
      await up.close();
    }
  });

  it('lets an HTTP/2 request in flight finish on shutdown and then ends the session', async () => {
    let release: (() => void) | undefined;
    const up = await startUpstream('slow', (_req, res) => {
      release = () => res.writeHead(200, { 'content-length': 4 }).end('done');
    });
    const gw = await createGateway({
      logger: pino({ level: 'silent' }),
      gateway: { listen: { host: '127.0.0.1', port: 0, tls: { cert: c.cert, key: c.key } }, admin: { enabled: false } },
      routeFiles: { 'r.yaml': { upstreams: { s: { targets: [{ url: up.url }] } }, routes: [{ id: 's', match: { path: '/*' }, upstream: 's' }] } },
    });
    const session = http2.connect(`https://127.0.0.1:${(await gw.listen()).port}`, { ca, servername: 'c.test' });
    try {
      const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
      const pending = h2request(session, { ':method': 'GET', ':path': '/slow', ':authority': 'c.test' });
      await waitFor(() => release !== undefined, { message: 'the request at the upstream' });
      const closed = gw.close();
      release!();
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.body).toBe('done');
      await closed;
      await sessionClosed;
    } finally {
      session.destroy();
      await gw.close();
      await up.close();
    }
  });

  it('keeps an HTTP/2 session through a slow response, then closes it once idle for keepAliveTimeout', async () => {
    const up = await startUpstream('slow', (_req, res) => {
      // Slower than keepAliveTimeout: the session is quiet while the stream is open.
      setTimeout(() => res.writeHead(200, { 'content-length': 4 }).end('done'), 700);
    });
    const gw = await createGateway({
      logger: pino({ level: 'silent' }),
      gateway: { listen: { host: '127.0.0.1', port: 0, tls: { cert: c.cert, key: c.key } }, admin: { enabled: false }, limits: { keepAliveTimeout: '200ms' } },
      routeFiles: { 'r.yaml': { upstreams: { s: { targets: [{ url: up.url }] } }, routes: [{ id: 's', match: { path: '/*' }, upstream: 's' }] } },
    });
    const session = http2.connect(`https://127.0.0.1:${(await gw.listen()).port}`, { ca, servername: 'c.test' });
    try {
      let closedAt = 0;
      session.once('close', () => (closedAt = Date.now()));
      const r = await h2request(session, { ':method': 'GET', ':path': '/slow', ':authority': 'c.test' });
      const answeredAt = Date.now();
      expect(r.body).toBe('done');
      expect(closedAt).toBe(0);
      await waitFor(() => closedAt > 0, { timeout: 3000, message: 'the idle session closed' });
      expect(closedAt - answeredAt).toBeGreaterThanOrEqual(150);
    } finally {
      session.destroy();
      await gw.close();
      await up.close();
    }
  });

  it.each([
    ['no certificate', { tls: {} }, /no certificate/],
    ['a missing file', { tls: { cert: join(dir, 'nope.crt'), key: c.key } }, /nope\.crt/],
    ['a key of another certificate', { tls: { cert: c.cert, key: join(dir, 'a.key') } }, /does not belong/],
    ['a redirect without TLS', { redirectHttp: 0 }, /needs listen\.tls/],
  ])('refuses to start with %s', async (_name, listen, message) => {
    const gw = await createGateway({
      logger: pino({ level: 'silent' }),
      gateway: { listen: { host: '127.0.0.1', port: 0, ...listen }, admin: { enabled: false } },
      routeFiles: { 'r.yaml': { upstreams: { s: { targets: [{ url: 'http://127.0.0.1:9' }] } }, routes: [{ id: 's', match: { path: '/*' }, upstream: 's' }] } },
    });
    try {
      await expect(gw.listen()).rejects.toThrow(message);
    } finally {
      await gw.close();
    }
  });
});
