/**
 * OpenTelemetry export: a real loopback "collector" records what the gateway
 * POSTs. The gateway's span must carry exactly the ids sent upstream in
 * traceparent, the incoming parent, the HTTP semantic-convention attributes
 * and an ERROR status for 5xx; unsampled traces stay home; a dead collector
 * costs requests nothing and the drops are counted; the queue is bounded; the
 * queue is flushed on close; without `tracing.otlp` nothing runs and nothing
 * is sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigInvalid } from '../../src/config/errors.js';
import { createGateway } from '../../src/gateway/gateway.js';
import { unixNanos } from '../../src/telemetry/otlp-encode.js';
import { parseKeyValues } from '../../src/telemetry/otlp-config.js';
import { sampledFlag } from '../../src/telemetry/server-span.js';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { attrs, metric, startCollector, type Collector } from './helpers.js';
import { captureLog } from '../helpers/log-capture.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** DEAD is an endpoint nothing listens on (port 1 is privileged and unused here, unlike a once-free port another process may take). */
const DEAD = 'http://127.0.0.1:1/v1/traces';

const routes = (up: TestUpstream, deadTarget = 'http://127.0.0.1:1') => ({
  'r.yaml': {
    upstreams: { svc: { targets: [{ url: up.url }] }, dead: { targets: [{ url: deadTarget }] } },
    routes: [
      { id: 'svc-api', match: { path: '/svc/*' }, upstream: 'svc' },
      { id: 'dead-api', match: { path: '/dead/*' }, upstream: 'dead' },
    ],
  },
});

/** sent is what the upstream received in traceparent, split. */
function sentIds(traceparent: string): { traceId: string; spanId: string; flags: string } {
  const m = TP.exec(traceparent)!;
  expect(m).not.toBeNull();
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, text, reqId: res.headers['x-request-id'] as string };
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('span content', () => {
  let up: TestUpstream;
  let col: Collector;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream('svc');
    col = await startCollector();
    gw = await startGateway({
      gateway: { tracing: { otlp: { endpoint: col.url, flushInterval: '20ms', headers: { 'x-api-key': 'k-123' } } } },
      routeFiles: routes(up),
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
    await col.close();
  });

  const spanOf = (reqId: string) => waitFor(() => col.spans().find((s) => attrs(s)['switchyard.request_id'] === reqId), { message: `span of ${reqId}` });

  it('a 200: ids are the ones sent upstream, the parent is the incoming one, HTTP attributes, no error status', async () => {
    const before = Date.now();
    const res = await get(`${gw.url}/svc/users/42?q=1`, { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE', host: 'api.example.com:8443' });
    expect(res.status).toBe(200);
    const sent = sentIds((JSON.parse(res.text) as { headers: Record<string, string> }).headers.traceparent!);
    const span = await spanOf(res.reqId);
    expect(span.traceId).toBe(TRACE);
    expect(sent.traceId).toBe(TRACE);
    expect(span.spanId).toBe(sent.spanId);
    expect(span.parentSpanId).toBe(PARENT);
    expect(span.traceState).toBe('congo=t61rcWkgMzE');
    expect(span.name).toBe('GET svc-api');
    expect(span.kind).toBe(2); // SPAN_KIND_SERVER
    expect(span.flags & 0xff).toBe(1); // sampled
    expect(span.flags & 0x300).toBe(0x300); // the parent is remote
    expect(span.status?.code ?? 0).toBe(0);
    expect(attrs(span)).toEqual({
      'http.request.method': 'GET',
      'url.path': '/svc/users/42',
      'url.scheme': 'http',
      'network.protocol.version': '1.1',
      'client.address': '127.0.0.1',
      'server.address': 'api.example.com',
      'http.response.status_code': 200,
      'http.route': '/svc/*',
      'switchyard.route': 'svc-api',
      'switchyard.upstream': 'svc',
      'switchyard.target': up.url,
      'switchyard.attempts': 1,
      'switchyard.request_id': res.reqId,
    });
    const start = BigInt(span.startTimeUnixNano);
    const end = BigInt(span.endTimeUnixNano);
    expect(end >= start).toBe(true);
    expect(start >= BigInt(before - 1000) * 1_000_000n && end <= BigInt(Date.now() + 1000) * 1_000_000n).toBe(true);
  });

  it('the export carries the resource, the scope, the configured headers and JSON', async () => {
    const res = await get(`${gw.url}/svc/r`);
    await spanOf(res.reqId);
    const exp = col.exports.find((e) => e.spans.some((s) => attrs(s)['switchyard.request_id'] === res.reqId))!;
    expect(exp.path).toBe('/v1/traces');
    expect(exp.headers['content-type']).toBe('application/json');
    expect(exp.headers['x-api-key']).toBe('k-123');
    expect(exp.headers['user-agent']).toBe('switchyard/0.1.0');
    expect(exp.resource).toEqual({ 'service.name': 'switchyard', 'service.version': '0.1.0', 'host.name': hostname() });
    expect(exp.scope).toEqual({ name: 'switchyard', version: '0.1.0' });
  });

  it('a new trace (no traceparent) is a root span with the ids sent upstream', async () => {
    const res = await get(`${gw.url}/svc/new`);
    const sent = sentIds((JSON.parse(res.text) as { headers: Record<string, string> }).headers.traceparent!);
    const span = await spanOf(res.reqId);
    expect(span.traceId).toBe(sent.traceId);
    expect(span.spanId).toBe(sent.spanId);
    expect(span.parentSpanId).toBeUndefined();
    expect(span.flags & 0x300).toBe(0x100); // the parent-is-remote bit is known: there is no parent
  });

  it('a 404 (no route): named by the method alone, the catalog code as error.type, status left unset (a client error)', async () => {
    const res = await get(`${gw.url}/nowhere/x?secret=1`, { traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(res.status).toBe(404);
    const span = await spanOf(res.reqId);
    expect(span.name).toBe('GET');
    expect(span.traceId).toBe(TRACE);
    expect(span.parentSpanId).toBe(PARENT);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.spanId).not.toBe(PARENT);
    expect(span.status?.code ?? 0).toBe(0);
    const a = attrs(span);
    expect(a['http.response.status_code']).toBe(404);
    expect(a['error.type']).toBe('SY_ERR_ROUTE_NOT_FOUND');
    expect(a['url.path']).toBe('/nowhere/x');
    expect(a['http.route']).toBeUndefined();
    expect(a['switchyard.upstream']).toBeUndefined();
  });

  it('a 502 (target refused): ERROR status with the catalog code, never an address in it', async () => {
    const res = await get(`${gw.url}/dead/x`);
    expect(res.status).toBe(502);
    const span = await spanOf(res.reqId);
    expect(span.name).toBe('GET dead-api');
    expect(span.status).toEqual({ code: 2, message: 'SY_ERR_UPSTREAM_CONNECT' });
    const a = attrs(span);
    expect(a['http.response.status_code']).toBe(502);
    expect(a['error.type']).toBe('SY_ERR_UPSTREAM_CONNECT');
    expect(a['switchyard.upstream']).toBe('dead');
    expect(a['switchyard.target']).toBe('http://127.0.0.1:1');
    expect(JSON.stringify(span)).not.toMatch(/ECONNREFUSED/);
  });

  it("an upstream's own 503 is an ERROR span with the status as error.type", async () => {
    up.setHandler((_req, res) => res.writeHead(503).end('busy'));
    try {
      const res = await get(`${gw.url}/svc/busy`);
      expect(res.status).toBe(503);
      const span = await spanOf(res.reqId);
      expect(span.status).toEqual({ code: 2, message: '503' });
      expect(attrs(span)['error.type']).toBe('503');
    } finally {
      const { echoHandler } = await import('../../src/testing/index.js');
      up.setHandler(echoHandler);
    }
  });

  it('unsampled traces (incoming flags 00) are not exported', async () => {
    const unsampled = await get(`${gw.url}/svc/quiet`, { traceparent: `00-${'1'.repeat(32)}-${PARENT}-00` });
    expect(sentIds((JSON.parse(unsampled.text) as { headers: Record<string, string> }).headers.traceparent!).flags).toBe('00');
    const refused = await get(`${gw.url}/nowhere`, { traceparent: `00-${'2'.repeat(32)}-${PARENT}-00` });
    // Spans are queued in finish order: once a later sampled one arrived, the unsampled ones would have too.
    const marker = await get(`${gw.url}/svc/loud`, { traceparent: `00-${'3'.repeat(32)}-${PARENT}-01` });
    await spanOf(marker.reqId);
    const ids = new Set(col.spans().map((s) => attrs(s)['switchyard.request_id']));
    expect(ids.has(unsampled.reqId)).toBe(false);
    expect(ids.has(refused.reqId)).toBe(false);
  });

  it('a WebSocket upgrade is one span, from the upgrade to the close, with the ids sent upstream', async () => {
    const wss = new WebSocketServer({ server: up.server });
    cleanup.push(() => new Promise<void>((r) => wss.close(() => r())));
    const upgraded = new Promise<http.IncomingHttpHeaders>((resolve) => wss.once('connection', (_s, req) => resolve(req.headers)));
    const ws = new WebSocket(gw.url.replace('http', 'ws') + '/svc/ws', { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    const reqId = await new Promise<string>((resolve, reject) => ws.once('upgrade', (res) => resolve(res.headers['x-request-id'] as string)).once('error', reject));
    await new Promise<void>((resolve) => (ws.readyState === WebSocket.OPEN ? resolve() : ws.once('open', () => resolve())));
    const sent = sentIds((await upgraded).traceparent as string);
    ws.close();
    const span = await spanOf(reqId);
    expect(span.spanId).toBe(sent.spanId);
    expect(span.traceId).toBe(TRACE);
    expect(span.parentSpanId).toBe(PARENT);
    expect(span.name).toBe('GET svc-api');
    expect(attrs(span)['http.response.status_code']).toBe(101);
    expect(attrs(span)['switchyard.websocket']).toBe(true);
  });

  it('counts exported spans in the metrics', async () => {
    const res = await get(`${gw.url}/svc/count`);
    await spanOf(res.reqId);
    // The exporter counts a batch once it has read the collector's answer, which may come after the collector has stored the spans: wait for it.
    const received = col.spans().length;
    const text = await waitFor(async () => {
      const t = await gw.gateway.metricsText();
      return metric(t, 'switchyard_otlp_spans_total', { result: 'exported' }) >= received ? t : undefined;
    }, { message: 'the exporter counting the spans the collector received' });
    expect(metric(text, 'switchyard_otlp_spans_total', { result: 'exported' })).toBeGreaterThanOrEqual(received);
    expect(metric(text, 'switchyard_otlp_spans_total', { result: 'dropped', reason: 'export_failed' })).toBe(0);
  });
});

describe('over TLS and HTTP/2', () => {
  it('records url.scheme https, network.protocol.version 2 and the :authority, for routed and refused requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-otlp-tls-'));
    const cert = join(dir, 'a.crt');
    const key = join(dir, 'a.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=a.test', '-addext', 'subjectAltName=DNS:a.test'], { stdio: 'ignore' });
    const up = await startUpstream('svc');
    const col = await startCollector();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => up.close(), () => col.close());
    const gw = await startGateway({ gateway: { listen: { host: '127.0.0.1', port: 0, tls: { cert, key } }, tracing: { otlp: { endpoint: col.url, flushInterval: '20ms' } } }, routeFiles: routes(up) });
    cleanup.push(() => gw.close());
    const session = http2.connect(`https://127.0.0.1:${gw.port}`, { ca: [readFileSync(cert)], servername: 'a.test' });
    cleanup.push(() => new Promise<void>((r) => session.close(() => r())));
    const h2get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': path, ':authority': 'a.test' });
        let reqId = '';
        stream.on('response', (h) => (reqId = h['x-request-id'] as string));
        stream.on('data', () => undefined);
        stream.on('end', () => resolve(reqId));
        stream.on('error', reject);
      });
    for (const [path, route] of [['/svc/h2', 'svc-api'], ['/nowhere', undefined]] as const) {
      const reqId = await h2get(path);
      const span = await waitFor(() => col.spans().find((x) => attrs(x)['switchyard.request_id'] === reqId), { message: `span of ${path}` });
      const a = attrs(span);
      expect(a['url.scheme']).toBe('https');
      expect(a['network.protocol.version']).toBe('2');
      expect(a['server.address']).toBe('a.test');
      expect(a['switchyard.route']).toBe(route);
    }
  });
});

describe('failures and bounds', () => {
  it('a dead collector leaves requests unaffected; the dropped spans are counted and logged once per interval', async () => {
    const up = await startUpstream('svc');
    const logs = captureLog();
    const gw = await startGateway({ logger: logs.logger, gateway: { log: { accessLog: false }, tracing: { otlp: { endpoint: DEAD, flushInterval: '20ms', timeout: '1s' } } }, routeFiles: routes(up) });
    cleanup.push(() => up.close(), () => gw.close());
    for (let i = 0; i < 20; i++) expect((await get(`${gw.url}/svc/${i}`)).status).toBe(200);
    await waitFor(async () => metric(await gw.gateway.metricsText(), 'switchyard_otlp_spans_total', { result: 'dropped', reason: 'export_failed' }) === 20, { message: '20 spans counted as failed' });
    const text = await gw.gateway.metricsText();
    expect(metric(text, 'switchyard_otlp_spans_total', { result: 'exported' })).toBe(0);
    const warnings = logs.lines.filter((l) => l.msg === 'OpenTelemetry export: spans dropped');
    // The first failure is logged at once; others within 5 s are held back (and counted in the next line).
    expect(warnings.length).toBe(1);
    expect(warnings[0]!.endpoint).toBe('http://127.0.0.1:1/v1/traces');
  });

  it('the queue is bounded: spans beyond maxQueue are dropped and counted, the queued ones are flushed on close', async () => {
    const up = await startUpstream('svc');
    const col = await startCollector();
    cleanup.push(() => up.close(), () => col.close());
    // No timer tick and no full batch within the test: only close() sends.
    const gw = await startGateway({ gateway: { tracing: { otlp: { endpoint: col.url, flushInterval: '1h', maxBatch: 100, maxQueue: 5 } } }, routeFiles: routes(up) });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await get(`${gw.url}/svc/${i}`)).reqId);
    const text = await gw.gateway.metricsText();
    expect(metric(text, 'switchyard_otlp_spans_total', { result: 'dropped', reason: 'queue_full' })).toBe(7);
    expect(col.exports).toHaveLength(0);
    await gw.close();
    // The final flush happened inside close(): no waiting after it.
    expect(col.spans().map((s) => attrs(s)['switchyard.request_id'])).toEqual(ids.slice(0, 5));
  });

  it('a full batch is sent at once, without waiting for the interval', async () => {
    const up = await startUpstream('svc');
    const col = await startCollector();
    const gw = await startGateway({ gateway: { tracing: { otlp: { endpoint: col.url, flushInterval: '1h', maxBatch: 3 } } }, routeFiles: routes(up) });
    cleanup.push(() => up.close(), () => col.close(), () => gw.close());
    for (let i = 0; i < 7; i++) await get(`${gw.url}/svc/${i}`);
    await waitFor(() => col.exports.length === 2, { message: 'two full batches' });
    expect(col.exports.map((e) => e.spans.length)).toEqual([3, 3]);
    // The seventh waits for a full batch or the interval; close() sends it.
    await gw.close();
    expect(col.exports.map((e) => e.spans.length)).toEqual([3, 3, 1]);
  });

  it('a collector answering 500 or a partial success: spans counted as dropped', async () => {
    const up = await startUpstream('svc');
    const col = await startCollector();
    const gw = await startGateway({ gateway: { tracing: { otlp: { endpoint: col.url, flushInterval: '20ms' } } }, routeFiles: routes(up) });
    cleanup.push(() => up.close(), () => col.close(), () => gw.close());
    col.answer(500, 'oops');
    await get(`${gw.url}/svc/a`);
    await waitFor(async () => metric(await gw.gateway.metricsText(), 'switchyard_otlp_spans_total', { result: 'dropped', reason: 'export_failed' }) === 1, { message: 'failed export counted' });
    col.answer(200, JSON.stringify({ partialSuccess: { rejectedSpans: 1, errorMessage: 'bad span' } }));
    await get(`${gw.url}/svc/b`);
    await get(`${gw.url}/svc/c`);
    await waitFor(async () => {
      const t = await gw.gateway.metricsText();
      const rejected = metric(t, 'switchyard_otlp_spans_total', { result: 'dropped', reason: 'rejected' }) ?? 0;
      const exported = metric(t, 'switchyard_otlp_spans_total', { result: 'exported' }) ?? 0;
      return rejected >= 1 && rejected + exported === 2;
    }, { message: 'partial success counted' });
  });

  it('close() is bounded by the export timeout when the collector never answers', async () => {
    const up = await startUpstream('svc');
    // A collector that accepts the connection and never answers.
    const stuck = http.createServer(() => undefined);
    await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
    cleanup.push(() => up.close(), () => new Promise<void>((r) => { stuck.closeAllConnections(); stuck.close(() => r()); }));
    const port = (stuck.address() as AddressInfo).port;
    const gw = await startGateway({ gateway: { tracing: { otlp: { endpoint: `http://127.0.0.1:${port}/v1/traces`, flushInterval: '1h', timeout: '300ms' } } }, routeFiles: routes(up) });
    await get(`${gw.url}/svc/a`);
    const t0 = performance.now();
    await gw.close();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(metric(await gw.gateway.metricsText(), 'switchyard_otlp_spans_total', { result: 'dropped', reason: 'export_failed' })).toBe(1);
  });
});

describe('configuration', () => {
  it('without tracing.otlp: no exporter, no timer, nothing sent, no series (even with OTEL_* variables set)', async () => {
    const up = await startUpstream('svc');
    const col = await startCollector();
    cleanup.push(() => up.close(), () => col.close());
    const gw = await startGateway({ gateway: {}, routeFiles: routes(up), env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: col.url } });
    expect(gw.gateway.observer.spans).toBeUndefined();
    expect((gw.gateway as unknown as { otlp: unknown }).otlp).toBeUndefined();
    for (let i = 0; i < 3; i++) expect((await get(`${gw.url}/svc/${i}`)).status).toBe(200);
    expect(await get(`${gw.url}/nowhere`)).toMatchObject({ status: 404 });
    expect(await gw.gateway.metricsText()).not.toContain('switchyard_otlp');
    await gw.close();
    expect(col.exports).toHaveLength(0);
  });

  it('otlp: {} takes the endpoint, service name and headers from the standard variables; the file wins', async () => {
    const up = await startUpstream('svc');
    const col = await startCollector();
    cleanup.push(() => up.close(), () => col.close());
    const base = col.url.replace('/v1/traces', '');
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: base + '/', OTEL_SERVICE_NAME: 'edge', OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1,x-b=two%20words', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=ignored' };
    const gw = await startGateway({ gateway: { tracing: { otlp: { flushInterval: '20ms', headers: { 'x-a': 'file' } } } }, routeFiles: routes(up), env });
    cleanup.push(() => gw.close());
    await get(`${gw.url}/svc/a`);
    const exp = await waitFor(() => col.exports[0], { message: 'an export' });
    expect(exp.path).toBe('/v1/traces');
    expect(exp.headers['x-a']).toBe('file');
    expect(exp.headers['x-b']).toBe('two words');
    expect(exp.resource['service.name']).toBe('edge');
    expect(exp.resource['deployment.environment']).toBe('prod');

    const named = await startGateway({ gateway: { tracing: { otlp: { endpoint: col.url, serviceName: 'from-file', flushInterval: '20ms' } } }, routeFiles: routes(up), env });
    cleanup.push(() => named.close());
    const res = await get(`${named.url}/svc/b`);
    const withName = await waitFor(() => col.exports.find((e) => e.spans.some((s) => attrs(s)['switchyard.request_id'] === res.reqId)), { message: 'export of the second gateway' });
    expect(withName.resource['service.name']).toBe('from-file');
  });

  it.each([
    ['no endpoint anywhere', { tracing: { otlp: {} } }, {}, /no endpoint/],
    ['export without propagation', { tracing: { enabled: false, otlp: { endpoint: 'http://c:4318/v1/traces' } } }, {}, /needs tracing\.enabled/],
    ['credentials in the URL', { tracing: { otlp: { endpoint: 'http://u:p@c:4318/v1/traces' } } }, {}, /credentials/],
    ['a bad variable', { tracing: { otlp: {} } }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' }, /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/],
    ['a header the exporter owns', { tracing: { otlp: { endpoint: 'http://c:4318/v1/traces', headers: { 'Content-Type': 'x' } } } }, {}, /set by the exporter/],
    ['a zero flush interval', { tracing: { otlp: { endpoint: 'http://c:4318/v1/traces', flushInterval: 0 } } }, {}, /flushInterval/],
  ])('refuses %s', async (_name, gateway, env, message) => {
    const err = await createGateway({ gateway, routeFiles: {}, env, offline: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigInvalid);
    expect((err as ConfigInvalid).errors.map((e) => e.format()).join('\n')).toMatch(message);
  });

  it('reload takes effect: a new endpoint gets the next spans, removing otlp stops the export', async () => {
    const up = await startUpstream('svc');
    const a = await startCollector();
    const b = await startCollector();
    const dir = mkdtempSync(join(tmpdir(), 'sy-otlp-'));
    cleanup.push(() => up.close(), () => a.close(), () => b.close(), () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'r.yaml'), JSON.stringify(routes(up)['r.yaml']));
    const write = (otlp: string) =>
      writeFileSync(join(dir, 'gateway.yaml'), `listen: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nroutes: [./r.yaml]\nreload: { watch: false }\ntracing:\n  enabled: true\n${otlp}`);
    write(`  otlp: { endpoint: "${a.url}", flushInterval: 20ms }\n`);
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
    cleanup.push(() => gw.close());

    const first = await get(`${gw.url}/svc/1`);
    await waitFor(() => a.spans().some((s) => attrs(s)['switchyard.request_id'] === first.reqId), { message: 'span at collector a' });

    write(`  otlp: { endpoint: "${b.url}", flushInterval: 20ms }\n`);
    expect((await gw.gateway.reload()).ok).toBe(true);
    const second = await get(`${gw.url}/svc/2`);
    await waitFor(() => b.spans().some((s) => attrs(s)['switchyard.request_id'] === second.reqId), { message: 'span at collector b' });
    expect(a.spans().some((s) => attrs(s)['switchyard.request_id'] === second.reqId)).toBe(false);

    write('');
    expect((await gw.gateway.reload()).ok).toBe(true);
    expect(gw.gateway.observer.spans).toBeUndefined();
    const sentBefore = a.exports.length + b.exports.length;
    await get(`${gw.url}/svc/3`);
    await gw.close();
    expect(a.exports.length + b.exports.length).toBe(sentBefore);
  });
});

describe('encoding helpers', () => {
  it.each([
    ['00', false],
    ['01', true],
    ['02', false],
    ['03', true],
    ['0a', false],
    ['0b', true],
    ['ff', true],
    ['fe', false],
  ])('flags %s → sampled %s', (flags, sampled) => {
    expect(sampledFlag(`00-${TRACE}-${PARENT}-${flags}`)).toBe(sampled);
  });

  it('unixNanos is the wall clock in nanoseconds, as digits only, monotonic with performance.now()', () => {
    const t = performance.now();
    const ns = unixNanos(t);
    expect(ns).toMatch(/^[1-9][0-9]{18}$/);
    expect(Number(BigInt(ns) / 1_000_000n)).toBeCloseTo(performance.timeOrigin + t, -1);
    // One microsecond later, within the double's resolution at today's epoch (~0.25 µs).
    const step = Number(BigInt(unixNanos(t + 0.001)) - BigInt(ns));
    expect(step).toBeGreaterThan(500);
    expect(step).toBeLessThan(1500);
    expect(unixNanos(t + 1.5) > ns).toBe(true);
  });

  it('parseKeyValues reads OTEL_* lists, percent-decoded, skipping malformed members', () => {
    expect(parseKeyValues('a=1, b = two%20words ,broken,=x,c=%zz,d=')).toEqual({ a: '1', b: 'two words', d: '' });
    expect(parseKeyValues(undefined)).toEqual({});
  });
});
