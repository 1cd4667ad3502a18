import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';

const MB = 1024 * 1024;

/** a deterministic stream of `size` bytes produced in 64 KB chunks (never held in memory at once). */
function bytes(size: number, onChunk?: (c: Buffer) => void): Readable {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(chunk.length, size - sent);
      sent += n;
      const c = n === chunk.length ? chunk : chunk.subarray(0, n);
      onChunk?.(c);
      this.push(c);
    },
  });
}

describe('streaming and WebSockets', () => {
  let up: TestUpstream;
  let wsServer: http.Server;
  let gw: TestGateway;

  beforeAll(async () => {
    // Upstream that hashes uploads as they stream and streams downloads of the requested size.
    up = await startUpstream(
      'stream',
      (req, res) => {
        if (req.method === 'POST') {
          const h = createHash('sha256');
          let n = 0;
          req.on('data', (c: Buffer) => {
            n += c.length;
            h.update(c);
          });
          req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes: n, sha256: h.digest('hex') })));
          return;
        }
        const size = Number(new URL(req.url!, 'http://x').searchParams.get('size'));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        bytes(size).pipe(res);
      },
      { stream: true },
    );
    wsServer = http.createServer();
    const wss = new WebSocketServer({ server: wsServer });
    wss.on('connection', (sock, req) => {
      sock.send(`hello ${req.url}`);
      sock.on('message', (m, binary) => sock.send(m, { binary }));
    });
    await new Promise<void>((r) => wsServer.listen(0, '127.0.0.1', r));
    const wsUrl = `http://127.0.0.1:${(wsServer.address() as AddressInfo).port}`;
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: { stream: { targets: [{ url: up.url }] }, ws: { balancer: 'least-connections', targets: [{ url: wsUrl }] } },
          routes: [
            { id: 'stream', match: { path: '/files/*' }, upstream: 'stream', bodyLimit: 100 * MB },
            { id: 'ws', match: { path: '/ws/*' }, upstream: 'ws', stripPrefix: true },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
    await new Promise<void>((r) => wsServer.close(() => r()));
  });

  it('streams a 50 MB upload (chunked) to the upstream intact', async () => {
    const expected = createHash('sha256');
    // Hash as the stream produces (a 'data' listener here would start the flow before the client reads).
    const body = bytes(50 * MB, (c) => expected.update(c));
    const res = await request(gw.url + '/files/up', { method: 'POST', body });
    const json = (await res.body.json()) as { bytes: number; sha256: string };
    expect(res.statusCode).toBe(200);
    expect(json.bytes).toBe(50 * MB);
    expect(json.sha256).toBe(expected.digest('hex'));
  });

  it('streams a 50 MB download intact', async () => {
    const res = await request(gw.url + `/files/down?size=${50 * MB}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(50 * MB));
    let n = 0;
    for await (const chunk of res.body) n += (chunk as Buffer).length;
    expect(n).toBe(50 * MB);
  });

  it('proxies a WebSocket echo and counts it as a connection on its target while open', async () => {
    const ws = new WebSocket(gw.url.replace('http', 'ws') + '/ws/chat');
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(m.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await waitFor(() => messages.length >= 1, { message: 'greeting' });
    expect(messages[0]).toBe('hello /chat');
    ws.send('ping 1');
    await waitFor(() => messages.length >= 2, { message: 'echo' });
    expect(messages[1]).toBe('ping 1');
    const target = gw.gateway.runtime.upstreams.get('ws')!.targets[0]!;
    expect(target.openWebSockets).toBe(1);
    expect(target.inflight).toBe(1);
    ws.close();
    await waitFor(() => target.openWebSockets === 0, { message: 'websocket closed' });
    expect(target.inflight).toBe(0);
  });
});
