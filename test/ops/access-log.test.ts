/**
 * 13.17: what one access-log line says. `bytes` is the body bytes sent to the
 * client (chunked responses included, a client that left mid-body counted as
 * far as it got, HTTP/1.1 and HTTP/2 alike); a plugin's refusal names its
 * error code and the plugin; every line carries the trace id; and no line the
 * gateway writes repeats a key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import jsonwebtoken from 'jsonwebtoken';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog, type LogLine } from '../helpers/log-capture.js';
import { sendRaw } from '../adversarial/helpers.js';
import { prettyStream } from '../../src/telemetry/pretty.js';

const SECRET = 'access-log-test-secret-0123456789';
const PIECE = Buffer.alloc(1000, 0x62);
const BIG = Buffer.alloc(64 * 1024, 0x61);
/** BIG_CHUNKS of BIG is what /big would send in full: far more than socket buffers hold. */
const BIG_CHUNKS = 1024;
/** BIG_TOTAL is 64 MiB: loopback sockets autotune to several MiB each, and two of them (upstream, client) sit between the ends. */
const BIG_TOTAL = BIG_CHUNKS * BIG.length;

describe('13.17: the access log', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let tlsGw: TestGateway;
  let certDir: string;
  let cert: string;
  const logs = captureLog('debug');

  beforeAll(async () => {
    up = await startUpstream(
      'svc',
      (req, res) => {
        req.resume();
        const path = req.url!;
        if (path.startsWith('/chunked')) {
          // No content-length: node frames it chunked.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write(PIECE);
          res.write(PIECE);
          setImmediate(() => res.end(PIECE));
        } else if (path.startsWith('/big')) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG_TOTAL) });
          let left = BIG_CHUNKS;
          const pump = () => {
            while (left > 0 && !res.destroyed) {
              left--;
              if (!res.write(BIG)) return;
            }
            if (left === 0) res.end();
          };
          res.on('drain', pump);
          pump();
        } else {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end('hello');
        }
      },
      { stream: true },
    );
    const routeFiles = {
      'r.yaml': {
        upstreams: { svc: { targets: [{ url: up.url }] } },
        routes: [
          { id: 'jwt', match: { path: '/jwt/*' }, upstream: 'svc', plugins: [{ jwt: { algorithms: ['HS256'], secret: SECRET } }] },
          { id: 'limited', match: { path: '/limited' }, upstream: 'svc', plugins: [{ 'rate-limit': { max: 1 } }] },
          { id: 'all', match: { path: '/*' }, upstream: 'svc' },
        ],
      },
    };
    gw = await startGateway({ logger: logs.logger, gateway: {}, routeFiles });
    certDir = mkdtempSync(join(tmpdir(), 'sy-access-log-'));
    cert = join(certDir, 'c.pem');
    const key = join(certDir, 'k.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=a.test', '-addext', 'subjectAltName=DNS:a.test'], { stdio: 'ignore' });
    tlsGw = await startGateway({ logger: logs.logger, gateway: { listen: { host: '127.0.0.1', port: 0, tls: { cert, key } } }, routeFiles });
  });
  afterAll(async () => {
    await tlsGw?.close();
    await gw?.close();
    await up?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  /** lineOf waits for the access-log line of the request with this id. */
  function lineOf(id: string): Promise<LogLine> {
    return waitFor(() => logs.lines.find((l) => l.kind === 'access' && l.reqId === id), { message: `access line of ${id}` });
  }

  it('13.17: bytes of a chunked response is the body sent (no content-length to copy)', async () => {
    const res = await request(gw.url + '/chunked/a');
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(res.headers['content-length']).toBeUndefined();
    expect(body.length).toBe(3 * PIECE.length);
    expect(await lineOf(String(res.headers['x-request-id']))).toMatchObject({ status: 200, bytes: 3 * PIECE.length });
  });

  it('13.17: bytes of a fixed-length response, a HEAD, and a gateway error', async () => {
    const fixed = await request(gw.url + '/fixed');
    await fixed.body.text();
    expect(await lineOf(String(fixed.headers['x-request-id']))).toMatchObject({ bytes: 5 });
    const head = await request(gw.url + '/fixed', { method: 'HEAD' });
    await head.body.text();
    expect(await lineOf(String(head.headers['x-request-id']))).toMatchObject({ bytes: 0 });
    const denied = await request(gw.url + '/jwt/x');
    const text = await denied.body.text();
    expect(await lineOf(String(denied.headers['x-request-id']))).toMatchObject({ status: 401, bytes: Buffer.byteLength(text) });
  });

  it('13.17: a client that leaves mid-body is logged with the bytes it was sent, not the content-length', async () => {
    const client = net.connect(gw.port, '127.0.0.1');
    let got = 0;
    let head = '';
    client.on('data', (c: Buffer) => {
      got += c.length;
      if (head.length < 4096) head += c.toString('latin1');
    });
    client.on('error', () => undefined);
    client.write('GET /big/abort HTTP/1.1\r\nHost: gw.test\r\n\r\n');
    await waitFor(() => got > 256 * 1024, { message: 'some of the body' });
    client.pause();
    const id = /x-request-id: (\S+)/i.exec(head)![1]!;
    client.destroy();
    const line = await lineOf(id);
    expect(line.bytes).toBeGreaterThan(0);
    expect(line.bytes).toBeLessThan(BIG_TOTAL);
    expect(line.bytes as number).toBeGreaterThanOrEqual(got - head.indexOf('\r\n\r\n') - 4);
  });

  it('13.17: HTTP/2 responses count their bytes too', async () => {
    const session = http2.connect(`https://127.0.0.1:${tlsGw.port}`, { ca: [readFileSync(cert)], servername: 'a.test' });
    try {
      const { id, length } = await new Promise<{ id: string; length: number }>((resolve, reject) => {
        const stream = session.request({ ':path': '/chunked/h2', ':authority': 'a.test' });
        let id = '';
        let length = 0;
        stream.on('response', (h) => (id = String(h['x-request-id'])));
        stream.on('data', (c: Buffer) => (length += c.length));
        stream.on('end', () => resolve({ id, length }));
        stream.on('error', reject);
      });
      expect(length).toBe(3 * PIECE.length);
      expect(await lineOf(id)).toMatchObject({ status: 200, bytes: 3 * PIECE.length });
    } finally {
      session.close();
    }
  });

  it('13.17: a plugin refusal logs its error code and the plugin: a missing and an invalid token differ', async () => {
    const missing = await request(gw.url + '/jwt/a');
    await missing.body.text();
    const invalid = await request(gw.url + '/jwt/a', { headers: { authorization: 'Bearer not.a.token' } });
    await invalid.body.text();
    const limited1 = await request(gw.url + '/limited');
    await limited1.body.text();
    const limited2 = await request(gw.url + '/limited');
    await limited2.body.text();
    expect(limited2.statusCode).toBe(429);
    expect(await lineOf(String(missing.headers['x-request-id']))).toMatchObject({ status: 401, code: 'SY_ERR_AUTH_REQUIRED', plugin: 'jwt', route: 'jwt' });
    expect(await lineOf(String(invalid.headers['x-request-id']))).toMatchObject({ status: 401, code: 'SY_ERR_AUTH_INVALID', plugin: 'jwt' });
    expect(await lineOf(String(limited2.headers['x-request-id']))).toMatchObject({ status: 429, plugin: 'rate-limit' });
    // A request let through names no plugin and no code.
    const ok = await request(gw.url + '/jwt/a', { headers: { authorization: `Bearer ${jsonwebtoken.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS256', expiresIn: '5m' })}` } });
    await ok.body.text();
    const okLine = await lineOf(String(ok.headers['x-request-id']));
    expect(okLine.status).toBe(200);
    expect(okLine).not.toHaveProperty('plugin');
    expect(okLine).not.toHaveProperty('code');
  });

  it('13.17: every access line carries the trace id: routed, unrouted and refused by the parser, continuing a client trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const routed = await request(gw.url + '/fixed', { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    await routed.body.text();
    // TRACE is refused before routing, like a path no route matches.
    const unrouted = await sendRaw(gw.port, `TRACE /x HTTP/1.1\r\nHost: gw.test\r\ntraceparent: 00-${traceId}-00f067aa0ba902b7-01\r\n\r\n`, { until: 1 });
    const refused = await sendRaw(gw.port, 'POST /x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(await lineOf(String(routed.headers['x-request-id']))).toMatchObject({ trace: traceId });
    expect(await lineOf(unrouted.responses[0]!.header('x-request-id')!)).toMatchObject({ route: null, status: 405, trace: traceId });
    expect((await lineOf(refused.responses[0]!.header('x-request-id')!)).trace).toMatch(/^[0-9a-f]{32}$/);
    for (const l of logs.lines.filter((x) => x.kind === 'access' && x.reqId !== undefined)) expect(l.trace, JSON.stringify(l)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('13.17: no log line repeats a key (access, drain, panic, plugin lines included)', async () => {
    const upstream = gw.gateway.runtime.upstreams.get('svc')!;
    const target = upstream.targets[0]!;
    upstream.setDraining(target, true);
    upstream.setDraining(target, false);
    await waitFor(() => logs.lines.some((l) => l.msg === 'target undrained'), { message: 'drain lines' });
    const drain = logs.lines.find((l) => l.msg === 'target draining')!;
    expect(drain).toMatchObject({ upstream: 'svc', target: target.id, draining: true });
    expect(logs.lines.some((l) => l.msg === 'rate limited')).toBe(true);
    expect(logs.duplicates).toEqual([]);
  });
});

describe('13.17: the access log in a terminal', () => {
  it('13.17: pretty mode prints one line per request: time, method, path, route → upstream/target, status, ms, bytes, request id', async () => {
    const up = await startUpstream('svc');
    let text = '';
    const out = new Writable({
      write(c: Buffer, _e, cb) {
        text += c.toString();
        cb();
      },
    });
    const gw = await startGateway({
      logger: pino({ base: { service: 'switchyard' } }, prettyStream(out, false)),
      gateway: {},
      routeFiles: { 'r.yaml': { upstreams: { svc: { targets: [{ url: up.url }] } }, routes: [{ id: 'api', match: { path: '/api/*' }, upstream: 'svc' }] } },
    });
    try {
      const res = await request(gw.url + '/api/hello?x=1');
      const body = await res.body.text();
      const id = String(res.headers['x-request-id']);
      const missing = await request(gw.url + '/nope');
      await missing.body.text();
      const target = gw.gateway.runtime.upstreams.get('svc')!.targets[0]!.id;
      const mine = await waitFor(() => text.split('\n').filter((l) => l.includes(id)), { message: 'pretty access line' });
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} GET /api/hello api → svc/${target.replace(/[.:/]/g, '\\$&')} 200 [\\d.]+ms ${Buffer.byteLength(body)}B id=${id}$`));
      // Nothing else of that request spills onto further lines (pino-pretty's field dump).
      expect(text).not.toMatch(/^\s+reqId:/m);
      const unrouted = await waitFor(() => text.split('\n').find((l) => l.includes(String(missing.headers['x-request-id']))), { message: 'unrouted line' });
      expect(unrouted).toMatch(/GET \/nope \(unrouted\) 404 .* SY_ERR_ROUTE_NOT_FOUND$/);
      // Other lines still go through pino-pretty.
      expect(text).toMatch(/INFO.*switchyard listening/);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
