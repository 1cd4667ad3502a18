/**
 * A client that goes away before its response is complete still ends in
 * exactly one finish: one access-log line, one count in the request metrics,
 * one span. Before any response head went out it is logged and counted as
 * 499 (status class 4xx), as nginx logs it; once a head went out, as the
 * status that went out (nginx and Envoy alike), both with the error
 * SY_ERR_CLIENT_CLOSED. The upstream attempt is cancelled and counted as
 * outcome "aborted" (not an upstream error, not a success), and the
 * in-flight gauge returns to 0. Covered: closed while the upstream thinks,
 * mid-response, while waiting for a pooled connection, mid-upload, cut by the
 * send timeout, an HTTP/2 stream cancelled, and a WebSocket upgrade
 * abandoned before the upstream answered it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { get } from '../adversarial/helpers.js';
import { frame, OP, upgradeRequest } from '../adversarial/ws-helpers.js';
import { attrs, metric, startCollector, type Collector } from './helpers.js';
import { captureLog } from '../helpers/log-capture.js';

/** Held is one request the upstream received and has not finished answering. */
interface Held {
  path: string;
  res: ServerResponse;
  /** cut is true when the connection closed before the response finished (the gateway cancelled it). */
  cut: boolean;
}

const CHUNK = Buffer.alloc(256 * 1024, 0x61);

describe('a client that goes away', () => {
  let up: TestUpstream;
  let col: Collector;
  let gw: TestGateway;
  let wsUp: net.Server;
  let certDir: string;
  let cert: string;
  let tlsGw: TestGateway;
  let tlsClient: Agent;
  const logs = captureLog();
  const held: Held[] = [];
  /** wsConns are the upgrade requests the WebSocket upstream received (it answers only when a test says so). */
  const wsConns: Array<{ socket: net.Socket; closed: boolean; received: Buffer }> = [];

  beforeAll(async () => {
    up = await startUpstream(
      'svc',
      (req, res) => {
        const path = req.url!;
        if (path.startsWith('/echo')) {
          req.resume();
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        const h: Held = { path, res, cut: false };
        res.once('close', () => (h.cut = !res.writableFinished));
        held.push(h);
        if (path.startsWith('/stream')) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first chunk');
        } else if (path.startsWith('/big')) {
          // Writes until the gateway stops taking more (the client does not read), then waits.
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const pump = () => {
            while (!res.destroyed && res.write(CHUNK));
          };
          res.on('drain', pump);
          pump();
        }
        // Anything else: the upstream holds the request without answering.
      },
      { stream: true },
    );
    wsUp = net.createServer((socket) => {
      const c = { socket, closed: false, received: Buffer.alloc(0) };
      socket.on('data', (d: Buffer) => (c.received = Buffer.concat([c.received, d])));
      socket.on('error', () => undefined);
      socket.once('close', () => (c.closed = true));
      wsConns.push(c);
    });
    await new Promise<void>((r) => wsUp.listen(0, '127.0.0.1', r));
    const wsUrl = `http://127.0.0.1:${(wsUp.address() as net.AddressInfo).port}`;
    col = await startCollector();
    const routeFiles = {
      'r.yaml': {
        upstreams: {
          svc: { targets: [{ url: up.url }] },
          // One connection: a second request waits in the pool.
          single: { targets: [{ url: up.url }], keepAlive: { connections: 1 } },
          ws: { targets: [{ url: wsUrl }] },
        },
        routes: [
          { id: 'echo', match: { path: '/echo/*' }, upstream: 'svc' },
          { id: 'hold', match: { path: '/hold/*' }, upstream: 'svc' },
          { id: 'stream', match: { path: '/stream/*' }, upstream: 'svc' },
          { id: 'big', match: { path: '/big/*' }, upstream: 'svc' },
          { id: 'upload', match: { path: '/upload/*' }, upstream: 'svc' },
          { id: 'queued', match: { path: '/queued/*' }, upstream: 'single' },
          { id: 'ws', match: { path: '/ws/*' }, upstream: 'ws' },
        ],
      },
    };
    const tracing = { otlp: { endpoint: col.url, flushInterval: '20ms' } };
    gw = await startGateway({ logger: logs.logger, gateway: { limits: { sendTimeout: '300ms' }, tracing }, routeFiles });
    certDir = mkdtempSync(join(tmpdir(), 'sy-abort-tls-'));
    cert = join(certDir, 'a.crt');
    const key = join(certDir, 'a.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=a.test', '-addext', 'subjectAltName=DNS:a.test'], { stdio: 'ignore' });
    tlsGw = await startGateway({ logger: logs.logger, gateway: { listen: { host: '127.0.0.1', port: 0, tls: { cert, key } }, tracing }, routeFiles });
    tlsClient = new Agent({ connect: { ca: readFileSync(cert), servername: 'a.test' } });
  });
  afterAll(async () => {
    for (const h of held) h.res.destroy();
    for (const c of wsConns) c.socket.destroy();
    await tlsClient?.close();
    await tlsGw?.close();
    await gw?.close();
    await up?.close();
    await new Promise<void>((r) => wsUp?.close(() => r()));
    await col?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  const accessLines = (path: string) => logs.lines.filter((l) => l.kind === 'access' && l.path === path);
  const spansOf = (path: string) => col.spans().filter((s) => attrs(s)['url.path'] === path);
  const heldAt = (path: string) => waitFor(() => held.find((h) => h.path === path), { message: `upstream received ${path}` });
  const inflight = (g: TestGateway, upstream: string) => g.gateway.runtime.upstreams.get(upstream)!.targets[0]!.inflight;

  /** outcomes reads the upstream attempt counters of one upstream. */
  async function outcomes(g: TestGateway, upstream: string) {
    const text = await g.gateway.metricsText();
    const n = (outcome: string) => metric(text, 'switchyard_upstream_requests_total', { upstream, outcome }) ?? 0;
    return { ok: n('ok'), error: n('error'), aborted: n('aborted') };
  }

  /**
   * settled waits until a later, normal request went all the way through
   * (its line and its span are out), then says how many lines, spans and
   * counts the abandoned request left: a late second finish would show here.
   */
  async function settled(g: TestGateway, path: string, route: string, method = 'GET') {
    const probe = `/echo/after${path}`;
    const res = g === tlsGw ? await request(`https://127.0.0.1:${g.port}${probe}`, { dispatcher: tlsClient }) : await request(g.url + probe);
    await res.body.text();
    await waitFor(() => accessLines(probe).length === 1 && spansOf(probe).length === 1, { message: 'the probe request observed' });
    const text = await g.gateway.metricsText();
    const classes = Object.fromEntries(['2xx', '4xx', '5xx'].map((c) => [c, metric(text, 'switchyard_requests_total', { route, method, status_class: c }) ?? 0]));
    return { lines: accessLines(path), spans: spansOf(path), classes };
  }

  it('closed before the upstream answered: 499 in the log and the metrics (4xx), the upstream request cancelled and counted aborted, one ERROR span', async () => {
    const before = await outcomes(gw, 'svc');
    const client = net.connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write(get('/hold/a'));
    const h = await heldAt('/hold/a');
    client.destroy();
    await waitFor(() => h.cut, { message: 'upstream request cancelled' });
    await waitFor(() => inflight(gw, 'svc') === 0, { message: 'in-flight back to 0' });
    const { lines, spans, classes } = await settled(gw, '/hold/a', 'hold');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 499, route: 'hold', upstream: 'svc', attempts: 1, target: up.url });
    expect(String(lines[0]!.err)).toContain('SY_ERR_CLIENT_CLOSED');
    expect(classes).toEqual({ '2xx': 0, '4xx': 1, '5xx': 0 });
    const after = await outcomes(gw, 'svc');
    // The probe request counts one ok; the abandoned one is neither ok nor an upstream error.
    expect({ ok: after.ok - before.ok, error: after.error - before.error, aborted: after.aborted - before.aborted }).toEqual({ ok: 1, error: 0, aborted: 1 });
    expect(metric(await gw.gateway.metricsText(), 'switchyard_target_inflight', { upstream: 'svc' })).toBe(0);
    expect(spans).toHaveLength(1);
    const a = attrs(spans[0]!);
    expect(spans[0]!.status).toEqual({ code: 2, message: 'SY_ERR_CLIENT_CLOSED' });
    expect(a['error.type']).toBe('SY_ERR_CLIENT_CLOSED');
    // Nothing was sent: no status code on the span.
    expect(a['http.response.status_code']).toBeUndefined();
  });

  it('closed mid-response: logged and counted with the status that went out (200), the upstream response abandoned, one ERROR span', async () => {
    const before = await outcomes(gw, 'svc');
    const client = net.connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    let got = '';
    client.on('data', (c: Buffer) => (got += c.toString('latin1')));
    client.write(get('/stream/a'));
    const h = await heldAt('/stream/a');
    await waitFor(() => got.includes('first chunk'), { message: 'first body bytes at the client' });
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    client.destroy();
    await waitFor(() => h.cut, { message: 'upstream response abandoned' });
    await waitFor(() => inflight(gw, 'svc') === 0, { message: 'in-flight back to 0' });
    const { lines, spans, classes } = await settled(gw, '/stream/a', 'stream');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 200, route: 'stream' });
    expect(String(lines[0]!.err)).toContain('SY_ERR_CLIENT_CLOSED');
    expect(classes).toEqual({ '2xx': 1, '4xx': 0, '5xx': 0 });
    const after = await outcomes(gw, 'svc');
    expect({ ok: after.ok - before.ok, error: after.error - before.error, aborted: after.aborted - before.aborted }).toEqual({ ok: 1, error: 0, aborted: 1 });
    expect(spans).toHaveLength(1);
    expect(spans[0]!.status?.code).toBe(2);
    expect(attrs(spans[0]!)['http.response.status_code']).toBe(200);
    expect(attrs(spans[0]!)['error.type']).toBe('SY_ERR_CLIENT_CLOSED');
  });

  it('closed while waiting for a pooled connection: logged at once, and the request never reaches the upstream', async () => {
    const first = net.connect(gw.port, '127.0.0.1');
    first.on('error', () => undefined);
    first.write(get('/queued/first'));
    const occupying = await heldAt('/queued/first');
    const before = await outcomes(gw, 'single');
    const client = net.connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write(get('/queued/second'));
    // The second request sits in the pool behind the first: in flight on the target, not at the upstream.
    await waitFor(() => inflight(gw, 'single') === 2, { message: 'second request queued in the pool' });
    client.destroy();
    // The line does not wait for the pool: the first request still holds the only connection.
    const line = await waitFor(() => accessLines('/queued/second')[0], { message: 'access line of the abandoned request' });
    expect(line).toMatchObject({ status: 499, route: 'queued' });
    expect(occupying.cut).toBe(false);
    // Once the connection frees up, the queued attempt is cancelled instead of sent.
    occupying.res.writeHead(200).end('done');
    await new Promise<void>((r) => first.once('data', () => r()));
    first.destroy();
    await waitFor(() => inflight(gw, 'single') === 0, { message: 'in-flight back to 0' });
    expect(held.some((h) => h.path === '/queued/second')).toBe(false);
    const after = await outcomes(gw, 'single');
    expect({ ok: after.ok - before.ok, error: after.error - before.error, aborted: after.aborted - before.aborted }).toEqual({ ok: 1, error: 0, aborted: 1 });
    const { lines, spans, classes } = await settled(gw, '/queued/second', 'queued');
    expect(lines).toHaveLength(1);
    expect(classes).toEqual({ '2xx': 1, '4xx': 1, '5xx': 0 });
    expect(spans).toHaveLength(1);
    expect(attrs(spans[0]!)['error.type']).toBe('SY_ERR_CLIENT_CLOSED');
  });

  it('closed mid-upload: 499 with the broken upload as the logged cause, no upstream request', async () => {
    const before = await outcomes(gw, 'svc');
    const client = net.connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    let got = '';
    client.on('data', (c: Buffer) => (got += c.toString('latin1')));
    client.write('POST /upload/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n');
    // The 100 comes once the gateway accepted the request and reads its body.
    await waitFor(() => got.startsWith('HTTP/1.1 100 '), { message: '100 Continue' });
    client.write('0123456789');
    client.destroy();
    const { lines, spans, classes } = await settled(gw, '/upload/a', 'upload', 'POST');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 499, route: 'upload', attempts: 0 });
    expect(String(lines[0]!.err)).toMatch(/ECONNRESET/);
    expect(classes).toEqual({ '2xx': 0, '4xx': 1, '5xx': 0 });
    expect(held.some((h) => h.path === '/upload/a')).toBe(false);
    const after = await outcomes(gw, 'svc');
    expect(after.aborted - before.aborted).toBe(0);
    expect(spans).toHaveLength(1);
    expect(attrs(spans[0]!)['error.type']).toBe('SY_ERR_CLIENT_CLOSED');
  });

  it('cut by the send timeout (the client stopped reading): one line with the status that went out and the timeout as cause', async () => {
    const before = await outcomes(gw, 'svc');
    const client = net.connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    client.pause();
    client.write(get('/big/a'));
    const h = await heldAt('/big/a');
    await waitFor(() => h.cut, { message: 'upstream response abandoned after the send timeout' });
    await waitFor(() => inflight(gw, 'svc') === 0, { message: 'in-flight back to 0' });
    client.destroy();
    const { lines, classes } = await settled(gw, '/big/a', 'big');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 200, route: 'big' });
    expect(String(lines[0]!.err)).toContain('send timeout');
    expect(classes).toEqual({ '2xx': 1, '4xx': 0, '5xx': 0 });
    const after = await outcomes(gw, 'svc');
    expect({ error: after.error - before.error, aborted: after.aborted - before.aborted }).toEqual({ error: 0, aborted: 1 });
  });

  it('an HTTP/2 stream cancelled before the upstream answered: 499, the upstream request cancelled, the connection kept', async () => {
    const session = http2.connect(`https://127.0.0.1:${tlsGw.port}`, { ca: [readFileSync(cert)], servername: 'a.test' });
    try {
      const stream = session.request({ ':method': 'GET', ':path': '/hold/h2', ':authority': 'a.test' });
      stream.on('error', () => undefined);
      const h = await heldAt('/hold/h2');
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await waitFor(() => h.cut, { message: 'upstream request cancelled' });
      await waitFor(() => inflight(tlsGw, 'svc') === 0, { message: 'in-flight back to 0' });
      const line = await waitFor(() => accessLines('/hold/h2')[0], { message: 'access line' });
      expect(line).toMatchObject({ status: 499, route: 'hold' });
      expect(session.closed || session.destroyed).toBe(false);
      const { lines, spans } = await settled(tlsGw, '/hold/h2', 'hold');
      expect(lines).toHaveLength(1);
      expect(spans).toHaveLength(1);
      expect(attrs(spans[0]!)['network.protocol.version']).toBe('2');
      expect(attrs(spans[0]!)['error.type']).toBe('SY_ERR_CLIENT_CLOSED');
    } finally {
      await new Promise<void>((r) => session.close(() => r()));
    }
  });

  it('a WebSocket upgrade abandoned before the upstream answered: 499, the upstream handshake cancelled and counted aborted', async () => {
    const before = await outcomes(gw, 'ws');
    const client = net.connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write(upgradeRequest('/ws/a'));
    const conn = await waitFor(() => wsConns.find((c) => c.received.toString('latin1').startsWith('GET /ws/a ')), { message: 'upgrade request at the upstream' });
    client.destroy();
    await waitFor(() => conn.closed, { message: 'upstream handshake cancelled' });
    await waitFor(() => inflight(gw, 'ws') === 0, { message: 'in-flight back to 0' });
    const { lines, spans, classes } = await settled(gw, '/ws/a', 'ws');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 499, route: 'ws', upstream: 'ws' });
    expect(classes).toEqual({ '2xx': 0, '4xx': 1, '5xx': 0 });
    const after = await outcomes(gw, 'ws');
    expect({ ok: after.ok - before.ok, error: after.error - before.error, aborted: after.aborted - before.aborted }).toEqual({ ok: 0, error: 0, aborted: 1 });
    expect(spans).toHaveLength(1);
    expect(attrs(spans[0]!)['error.type']).toBe('SY_ERR_CLIENT_CLOSED');
  });

  it('a WebSocket client that stays: what it sent while the upgrade was pending (past the read-ahead) reaches the upstream after it, in order', async () => {
    const client = net.connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    let got = '';
    client.on('data', (c: Buffer) => (got += c.toString('latin1')));
    client.write(upgradeRequest('/ws/b'));
    const conn = await waitFor(() => wsConns.find((c) => c.received.toString('latin1').startsWith('GET /ws/b ') && c.received.includes('\r\n\r\n')), { message: 'upgrade request at the upstream' });
    const handshake = conn.received.indexOf('\r\n\r\n') + 4;
    // 100 KiB in two messages, more than the gateway reads ahead (64 KiB) before the upstream answers.
    const early = Buffer.concat([frame({ opcode: OP.BINARY, payload: Buffer.alloc(40 * 1024, 0x61) }), frame({ opcode: OP.BINARY, payload: Buffer.alloc(60 * 1024, 0x62) })]);
    client.write(early);
    // Nothing goes upstream before the upgrade is answered.
    await waitFor(() => inflight(gw, 'ws') === 1, { message: 'upgrade in flight' });
    expect(conn.received.length).toBe(handshake);
    conn.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await waitFor(() => got.startsWith('HTTP/1.1 101 '), { message: '101 at the client' });
    await waitFor(() => conn.received.length >= handshake + early.length, { message: 'early frames at the upstream' });
    expect(conn.received.subarray(handshake).equals(early)).toBe(true);
    expect(conn.closed).toBe(false);
    client.destroy();
    await waitFor(() => conn.closed, { message: 'upstream closed with the client' });
    const line = await waitFor(() => accessLines('/ws/b')[0], { message: 'access line' });
    expect(line).toMatchObject({ status: 101, route: 'ws' });
  });
});
