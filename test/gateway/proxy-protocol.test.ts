/**
 * PROXY protocol on the public listener (proxyProtocol.accept), over raw
 * sockets: from a listed peer the claimed address is the client everywhere
 * (X-Forwarded-For, the access log, ip-hash); a peer not listed cannot claim
 * one; a malformed or slow header closes the connection and is counted; and
 * over TLS the header precedes the ClientHello, HTTP/2 included.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createGateway, type Gateway } from '../../src/gateway/gateway.js';
import { encodeV1, encodeV2 } from '../../src/proxy-protocol/index.js';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

const REQUEST = 'GET /pp/echo HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n';

/** exchange opens a raw connection (optionally from another loopback source), writes the bytes and returns all it got back until the gateway closed. */
async function exchange(port: number, bytes: Buffer | string, localAddress = '127.0.0.1'): Promise<{ text: string; closedBy: 'end' | 'error' }> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  s.write(bytes);
  const closedBy = await new Promise<'end' | 'error'>((resolve) => {
    s.once('error', () => resolve('error'));
    s.once('close', () => resolve('end'));
  });
  return { text: Buffer.concat(chunks).toString(), closedBy };
}

const v1 = (address: string) => encodeV1({ source: { address, port: 40001 }, destination: { address: '127.0.0.1', port: 80 } });
const v2 = (address: string) => encodeV2({ source: { address, port: 40002 }, destination: { address: '127.0.0.1', port: 80 } });
const body = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

/** refusals reads switchyard_events_total{event="proxy_protocol_refused"} by reason. */
async function refusals(gw: Pick<Gateway, 'metricsText'>, reason: string): Promise<number> {
  const text = await gw.metricsText();
  const m = text.match(new RegExp(`switchyard_events_total\\{[^}]*event="proxy_protocol_refused"[^}]*result="${reason}"[^}]*\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}

describe('PROXY protocol on the plain HTTP listener', () => {
  let a: TestUpstream, b: TestUpstream;
  let gw: TestGateway;
  let log: CapturedLog;

  beforeAll(async () => {
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    log = captureLog('info');
    gw = await startGateway({
      logger: log.logger,
      gateway: { proxyProtocol: { accept: { from: ['127.0.0.1/32'], timeout: '300ms' } }, log: { accessLog: true } },
      routeFiles: {
        'pp.yaml': {
          upstreams: { app: { balancer: 'ip-hash', targets: [{ url: a.url }, { url: b.url }] } },
          routes: [
            { id: 'pp', match: { path: '/pp/*' }, upstream: 'app' },
            { id: 'filtered', match: { path: '/filtered/*' }, upstream: 'app', plugins: [{ 'ip-filter': { deny: ['192.0.2.0/24'] } }] },
          ],
        },
      },
    });
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it.each([
    ['v1', v1('203.0.113.7'), '203.0.113.7'],
    ['v2', v2('203.0.113.8'), '203.0.113.8'],
    ['v2 over IPv6', encodeV2({ source: { address: '2001:db8::7', port: 1 }, destination: { address: '::1', port: 2 } }), '2001:db8::7'],
  ])('%s: the upstream and the access log see the claimed client', async (_name, header, client) => {
    const before = a.requests.length + b.requests.length;
    const r = await exchange(gw.port, Buffer.concat([header, Buffer.from(REQUEST)]));
    expect(r.text).toMatch(/^HTTP\/1.1 200/);
    await waitFor(() => a.requests.length + b.requests.length > before);
    const seen = [...a.requests, ...b.requests].find((q) => q.headers['x-forwarded-for'] === client);
    expect(seen, `an upstream request with X-Forwarded-For: ${client}`).toBeDefined();
    await waitFor(() => log.lines.find((l) => l.kind === 'access' && l.ip === client), { message: `access log line with ip ${client}` });
  });

  it('LOCAL (the balancer health check) and UNKNOWN keep the real peer', async () => {
    for (const header of [encodeV2({ command: 'local' }), Buffer.from('PROXY UNKNOWN\r\n')]) {
      const r = await exchange(gw.port, Buffer.concat([header, Buffer.from(REQUEST)]));
      expect(r.text).toMatch(/^HTTP\/1.1 200/);
    }
    expect([...a.requests, ...b.requests].filter((q) => q.headers['x-forwarded-for'] === '127.0.0.1').length).toBeGreaterThanOrEqual(2);
  });

  it('ip-hash balances on the claimed address, not on the one real peer', async () => {
    const targetOf = async (client: string): Promise<string> => {
      const r = await exchange(gw.port, Buffer.concat([v2(client), Buffer.from(REQUEST)]));
      expect(r.text).toMatch(/^HTTP\/1.1 200/);
      return a.requests.some((q) => q.headers['x-forwarded-for'] === client) ? 'a' : 'b';
    };
    const picks = new Map<string, string>();
    for (let i = 1; i <= 16; i++) picks.set(`198.51.100.${i}`, await targetOf(`198.51.100.${i}`));
    expect(new Set(picks.values()).size, 'claimed addresses spread over both targets').toBe(2);
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) expect(await targetOf(client)).toBe(picks.get(client));
  });

  it('ip-filter judges the claimed address', async () => {
    const req = (path: string) => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`);
    expect((await exchange(gw.port, Buffer.concat([v2('192.0.2.50'), req('/filtered/x')]))).text).toMatch(/^HTTP\/1.1 403/);
    expect((await exchange(gw.port, Buffer.concat([v2('198.51.100.50'), req('/filtered/x')]))).text).toMatch(/^HTTP\/1.1 200/);
    expect((await exchange(gw.port, Buffer.concat([encodeV2({ command: 'local' }), req('/filtered/x')]))).text).toMatch(/^HTTP\/1.1 200/);
  });

  it('a request without a header from a listed peer is refused and counted', async () => {
    const before = await refusals(gw.gateway, 'malformed');
    const r = await exchange(gw.port, REQUEST);
    expect(r.text).toBe('');
    await waitFor(async () => (await refusals(gw.gateway, 'malformed')) > before);
    expect(log.lines.some((l) => l.reason === 'malformed' && String(l.msg).startsWith('proxy protocol: connection refused'))).toBe(true);
  });

  it.each([
    ['garbage after the v1 prefix', 'PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n', 'malformed'],
    ['a v2 TLV overflowing the header', Buffer.concat([v2('203.0.113.9').subarray(0, 14), Buffer.from([0, 15]), v2('203.0.113.9').subarray(16), Buffer.from([0x01, 0, 9])]), 'malformed'],
    ['a v1 line over 107 bytes', `PROXY UNKNOWN ${'x'.repeat(120)}\r\n`, 'oversize'],
  ])('%s: closed without an answer, counted', async (_name, bytes, reason) => {
    const before = await refusals(gw.gateway, reason);
    const r = await exchange(gw.port, typeof bytes === 'string' ? bytes + REQUEST : Buffer.concat([bytes, Buffer.from(REQUEST)]));
    expect(r.text).toBe('');
    await waitFor(async () => (await refusals(gw.gateway, reason)) > before);
  });

  it('the balancer\'s plain TCP health check (connect, close) is not a refusal', async () => {
    const counts = async () => Promise.all(['empty', 'closed', 'timeout'].map((reason) => refusals(gw.gateway, reason)));
    const before = await counts();
    const s = net.connect({ port: gw.port, host: '127.0.0.1' });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.end();
    await new Promise((r) => s.once('close', r));
    // The next refusal is counted after this one was settled: a malformed header proves the gate moved on.
    const malformed = await refusals(gw.gateway, 'malformed');
    await exchange(gw.port, 'nonsense\r\n');
    await waitFor(async () => (await refusals(gw.gateway, 'malformed')) > malformed);
    expect(await counts()).toEqual(before);
  });

  it('a header that never completes times out', async () => {
    const before = await refusals(gw.gateway, 'timeout');
    const s = net.connect({ port: gw.port, host: '127.0.0.1' });
    s.on('error', () => {});
    s.write(v2('203.0.113.10').subarray(0, 20));
    await new Promise((r) => s.once('close', r));
    expect(await refusals(gw.gateway, 'timeout')).toBe(before + 1);
  });

  it('a peer not listed cannot claim an address: its header is refused, its plain requests served', async () => {
    const before = await refusals(gw.gateway, 'unlisted');
    for (const header of [v1('10.9.9.9'), v2('10.9.9.9')]) {
      const r = await exchange(gw.port, Buffer.concat([header, Buffer.from(REQUEST)]), '127.0.0.2');
      expect(r.text).toBe('');
    }
    await waitFor(async () => (await refusals(gw.gateway, 'unlisted')) >= before + 2);
    expect([...a.requests, ...b.requests].some((q) => q.headers['x-forwarded-for'] === '10.9.9.9')).toBe(false);
    const plain = await exchange(gw.port, REQUEST, '127.0.0.2');
    expect(plain.text).toMatch(/^HTTP\/1.1 200/);
    expect(JSON.parse(body(plain.text)).headers['x-forwarded-for']).toBe('127.0.0.2');
  });
});

describe('PROXY protocol in front of TLS (HTTP/1.1 and HTTP/2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pp-tls-'));
  let up: TestUpstream;
  let gw: Gateway;
  let ca: Buffer;
  let port: number;
  let redirectPort: number;

  beforeAll(async () => {
    const cert = join(dir, 'app.crt');
    const key = join(dir, 'app.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=app.test', '-addext', 'subjectAltName=DNS:app.test'], { stdio: 'ignore' });
    ca = readFileSync(cert);
    up = await startUpstream('tls-up');
    gw = await createGateway({
      logger: pino({ level: 'silent' }),
      gateway: {
        listen: { host: '127.0.0.1', port: 0, redirectHttp: 0, tls: { certificates: [{ cert, key }] } },
        admin: { enabled: false },
        proxyProtocol: { accept: { from: ['127.0.0.1'], versions: ['v2'] } },
      },
      routeFiles: { 'pp.yaml': { upstreams: { app: { targets: [{ url: up.url }] } }, routes: [{ id: 'pp', match: { path: '/pp/*', host: 'app.test' }, upstream: 'app' }] } },
    });
    const ports = await gw.listen();
    port = ports.port;
    redirectPort = ports.redirectPort!;
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** tlsOverHeader connects, sends the PROXY header on the raw socket, then runs TLS over the same socket. */
  async function tlsOverHeader(header: Buffer, alpn: string[]): Promise<tls.TLSSocket> {
    const raw = net.connect({ port, host: '127.0.0.1' });
    await new Promise((r) => raw.once('connect', r));
    raw.write(header);
    const s = tls.connect({ socket: raw, servername: 'app.test', ca, ALPNProtocols: alpn });
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve);
      s.once('error', reject);
    });
    return s;
  }

  it('HTTP/1.1 over TLS: the upstream sees the claimed client', async () => {
    const s = await tlsOverHeader(v2('192.0.2.44'), ['http/1.1']);
    s.write(REQUEST);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((r) => s.once('close', r));
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1.1 200/);
    expect(JSON.parse(body(text)).headers['x-forwarded-for']).toBe('192.0.2.44');
  });

  it('HTTP/2 over TLS: every stream of the session sees the claimed client', async () => {
    const s = await tlsOverHeader(v2('192.0.2.45'), ['h2']);
    expect(s.alpnProtocol).toBe('h2');
    const session = http2.connect('https://app.test', { createConnection: () => s });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': '/pp/h2', ':authority': 'app.test' });
        let data = '';
        req.on('data', (c: Buffer) => (data += c));
        req.on('end', () => resolve(data));
        req.on('error', reject);
      });
    const [x, y] = await Promise.all([get(), get()]);
    for (const t of [x, y]) expect(JSON.parse(t).headers['x-forwarded-for']).toBe('192.0.2.45');
    session.close();
  });

  it('v1 where only v2 is accepted: the TLS handshake never starts', async () => {
    const r = await exchange(port, v1('192.0.2.46'));
    expect(r.text).toBe('');
    expect(await refusals(gw, 'version')).toBeGreaterThanOrEqual(1);
  });

  it('the HTTPS redirect listener takes the header too, and requires it', async () => {
    const ok = await exchange(redirectPort, Buffer.concat([v2('192.0.2.47'), Buffer.from(REQUEST)]));
    expect(ok.text).toMatch(/^HTTP\/1.1 308/);
    expect(ok.text).toMatch(/location: https:\/\/app.test/i);
    expect((await exchange(redirectPort, REQUEST)).text).toBe('');
  });
});
