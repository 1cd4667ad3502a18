/**
 * A split request in the trace export (switchyard.split, and the leg as
 * switchyard.upstream) and through a WebSocket upgrade (the leg's pool is
 * dialed, and the cohort cookie rides on the 101).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { bucketOf } from '../../src/proxy/split-plan.js';
import { attrs, startCollector, type Collector } from './helpers.js';

describe('split: spans and WebSockets', () => {
  let v1: TestUpstream;
  let v2: TestUpstream;
  let wsServer: http.Server;
  let col: Collector;
  let gw: TestGateway;

  beforeAll(async () => {
    [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    wsServer = http.createServer((_req, res) => res.writeHead(200).end('plain'));
    const wss = new WebSocketServer({ server: wsServer });
    wss.on('connection', (socket) => socket.on('message', (m) => socket.send(`v2-ws:${String(m)}`)));
    await new Promise<void>((r) => wsServer.listen(0, '127.0.0.1', r));
    const wsUrl = `http://127.0.0.1:${(wsServer.address() as AddressInfo).port}`;
    col = await startCollector();
    gw = await startGateway({
      gateway: { tracing: { otlp: { endpoint: col.url, flushInterval: '20ms' } } },
      routeFiles: {
        'r.yaml': {
          upstreams: { 'orders-v1': { targets: [{ url: v1.url }] }, 'orders-v2': { targets: [{ url: v2.url }] }, 'ws-v2': { targets: [{ url: wsUrl }] } },
          routes: [
            { id: 'orders', match: { path: '/api/*' }, upstream: 'orders-v1', split: { by: 'header:x-user', to: [{ upstream: 'orders-v2', weight: 50 }] } },
            { id: 'live', match: { path: '/live/*' }, upstream: 'orders-v1', split: { to: [{ upstream: 'ws-v2', weight: 100 }] } },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await col.close();
    await Promise.all([v1.close(), v2.close(), new Promise((r) => wsServer.close(r))]);
  });

  it('the span names the leg that served: switchyard.split and switchyard.upstream', async () => {
    const users = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const canary = users.find((u) => bucketOf('orders', u) < 50)!;
    const primary = users.find((u) => bucketOf('orders', u) >= 50)!;
    for (const [user, leg] of [[canary, 'orders-v2'], [primary, 'orders-v1']] as const) {
      const res = await request(`${gw.url}/api/x`, { headers: { 'x-user': user, traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` } });
      await res.body.dump();
      const reqId = res.headers['x-request-id'] as string;
      const span = await waitFor(() => col.spans().find((s) => attrs(s)['switchyard.request_id'] === reqId), { message: `span of ${reqId}` });
      expect(attrs(span)).toMatchObject({ 'switchyard.route': 'orders', 'switchyard.upstream': leg, 'switchyard.split': leg });
    }
  });

  it('a WebSocket upgrade on a split route is dialed to the leg, and a new client gets its cohort cookie on the 101', async () => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/live/feed`);
    let upgrade: http.IncomingMessage | undefined;
    ws.once('upgrade', (res) => (upgrade = res));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(String(upgrade!.headers['set-cookie'])).toMatch(/^sy-cohort=[0-9a-f-]{36}; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax$/);
    ws.send('hello');
    const reply = await new Promise<string>((r) => ws.once('message', (m) => r(String(m))));
    expect(reply).toBe('v2-ws:hello');
    ws.close();
  });
});
