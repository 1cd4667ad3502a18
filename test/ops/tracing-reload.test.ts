/**
 * `tracing.enabled` and `tracing.sampled` follow a reload: they live in the
 * runtime a request is served by, so the first request after the reload
 * propagates (or not) and samples as the new file says, for plain requests
 * and WebSocket upgrades alike, with no restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_TP = `00-${TRACE}-00f067aa0ba902b7-01`;
const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

describe('tracing over a reload', () => {
  let dir: string;
  let up: TestUpstream;
  let wss: WebSocketServer;
  let gw: TestGateway;
  const logs = captureLog();
  const upgrades: IncomingHttpHeaders[] = [];

  const writeConfig = (tracing: string) =>
    writeFileSync(join(dir, 'gateway.yaml'), `listen: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nroutes: [./r.yaml]\nreload: { watch: false }\ntracing: ${tracing}\n`);

  beforeAll(async () => {
    up = await startUpstream('svc');
    wss = new WebSocketServer({ server: up.server });
    wss.on('connection', (_s, req) => upgrades.push(req.headers));
    dir = mkdtempSync(join(tmpdir(), 'sy-tracing-reload-'));
    writeFileSync(join(dir, 'r.yaml'), `upstreams:\n  svc:\n    targets: [{ url: "${up.url}" }]\nroutes:\n  - id: svc\n    match: { path: /svc/* }\n    upstream: svc\n`);
    writeConfig('{ enabled: true, sampled: true }');
    gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: logs.logger });
  });
  afterAll(async () => {
    await gw?.close();
    wss?.close();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** call sends one request and returns the trace headers the upstream got and the access line's trace id. */
  async function call(path: string, headers: Record<string, string> = {}) {
    const res = await request(gw.url + path, { headers });
    const body = (await res.body.json()) as { headers: Record<string, string | undefined> };
    const reqId = res.headers['x-request-id'] as string;
    const line = await waitFor(() => logs.lines.find((l) => l.kind === 'access' && l.reqId === reqId), { message: 'access line' });
    return { traceparent: body.headers.traceparent, tracestate: body.headers.tracestate, trace: line.trace as string | undefined };
  }

  /** upgrade opens a WebSocket and returns the traceparent the upstream's handshake carried. */
  async function upgrade(headers: Record<string, string> = {}): Promise<string | undefined> {
    const seen = upgrades.length;
    const ws = new WebSocket(gw.url.replace('http', 'ws') + '/svc/ws', { headers });
    try {
      await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      const h = await waitFor(() => upgrades[seen], { message: 'upgrade at the upstream' });
      return h.traceparent as string | undefined;
    } finally {
      ws.terminate();
    }
  }

  async function reload(tracing: string) {
    writeConfig(tracing);
    expect((await gw.gateway.reload()).ok).toBe(true);
  }

  it('turns sampling off and on, and propagation off and on, for requests and upgrades alike', async () => {
    const started = await call('/svc/1');
    expect(TP.exec(started.traceparent!)?.[3]).toBe('01');
    expect(started.trace).toBe(TP.exec(started.traceparent!)?.[1]);

    await reload('{ enabled: true, sampled: false }');
    const unsampled = await call('/svc/2');
    expect(TP.exec(unsampled.traceparent!)?.[3]).toBe('00');
    expect(TP.exec((await upgrade())!)?.[3]).toBe('00');
    // An incoming trace keeps its own flag whatever the setting.
    expect(TP.exec((await call('/svc/3', { traceparent: CLIENT_TP })).traceparent!)?.[3]).toBe('01');

    await reload('{ enabled: false }');
    const off = await call('/svc/4');
    expect(off.traceparent).toBeUndefined();
    expect(off.trace).toBeUndefined();
    // Off means the gateway is no hop of the trace: a client's headers pass as they are.
    const passed = await call('/svc/5', { traceparent: CLIENT_TP, tracestate: 'k=v' });
    expect(passed.traceparent).toBe(CLIENT_TP);
    expect(passed.tracestate).toBe('k=v');
    expect(passed.trace).toBeUndefined();
    expect(await upgrade()).toBeUndefined();
    expect(await upgrade({ traceparent: CLIENT_TP })).toBe(CLIENT_TP);

    await reload('{ enabled: true, sampled: true }');
    const on = await call('/svc/6', { traceparent: CLIENT_TP });
    expect(TP.exec(on.traceparent!)?.[1]).toBe(TRACE);
    expect(on.traceparent).not.toBe(CLIENT_TP);
    expect(on.trace).toBe(TRACE);
    expect(TP.exec((await upgrade())!)?.[3]).toBe('01');
  });
});
