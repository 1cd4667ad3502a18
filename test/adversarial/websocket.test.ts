/**
 * WebSocket message size limits (`limits.maxWebSocketMessage`), from raw
 * sockets on both sides: a client that sends a message over the limit (in
 * one frame, across continuation frames, with a declared length far beyond
 * what it sends, behind its handshake, in a header split byte by byte) gets
 * close 1009 and the connection ends, and the upstream — a recorder logging
 * every byte after the handshake — never receives a byte of the frame that
 * passed the limit. A message at the limit passes intact, control frames
 * interleaved in a fragmented message are forwarded and not counted, and
 * control frames no client may send (over 125 bytes, fragmented) get 1002.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { OP, closeCode, frame, openWs, parseFrames, startWsRecorder, upgradeRequest, type RawWs, type WsRecorder } from './ws-helpers.js';

/** LIMIT is 64 KiB: a message at the limit needs the 64-bit length form, one byte less the 16-bit one. */
const LIMIT = 65536;

const bytes = (n: number, fill = 0x61) => Buffer.alloc(n, fill);

describe('WebSocket message size limit', () => {
  let rec: WsRecorder;
  let gw: TestGateway;
  beforeAll(async () => {
    rec = await startWsRecorder();
    gw = await startGateway({
      gateway: { limits: { maxWebSocketMessage: LIMIT } },
      routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'ws', match: { path: '/ws/*' }, upstream: 'rec' }] } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await rec?.close();
  });
  afterEach(async () => {
    // Every WebSocket is over: the target holds no connection and no in-flight count.
    const target = gw.gateway.runtime.upstreams.get('rec')!.targets[0]!;
    await waitFor(() => target.openWebSockets === 0 && target.inflight === 0, { message: 'target counters back to 0' });
    rec.reset();
  });

  async function open(after?: Buffer): Promise<RawWs> {
    const ws = await openWs(gw.port, upgradeRequest('/ws/x'), after ? { after } : {});
    expect(ws.status).toBe(101);
    return ws;
  }

  /** expectClosedWith waits for the gateway's close frame and the end of the connection. */
  async function expectClosedWith(ws: RawWs, code: number) {
    await waitFor(() => ws.ended(), { message: 'gateway ends the connection' });
    const { frames } = parseFrames(ws.received());
    const last = frames.at(-1);
    expect(last?.opcode).toBe(OP.CLOSE);
    expect(last?.masked).toBe(false);
    expect(closeCode(last!)).toBe(code);
    ws.socket.destroy();
  }

  /** upstreamConn is the recorder's side of the (single) connection, once the handshake reached it. */
  const upstreamConn = () => waitFor(() => rec.connections[0], { message: 'handshake reached the upstream' });

  it('passes a message of exactly the limit intact, and the connection stays open', async () => {
    const ws = await open();
    const payload = Buffer.alloc(LIMIT);
    for (let i = 0; i < LIMIT; i++) payload[i] = i & 0xff;
    const f = frame({ opcode: OP.BINARY, payload });
    ws.socket.write(f);
    const up = await upstreamConn();
    await waitFor(() => up.bytes.length >= f.length, { message: 'frame forwarded' });
    expect(up.bytes.equals(f)).toBe(true);
    expect(parseFrames(up.bytes).frames[0]!.payload.equals(payload)).toBe(true);
    // Still open in both directions: the upstream speaks, the client hears.
    up.socket.write(frame({ opcode: OP.TEXT, payload: Buffer.from('still here'), mask: false }));
    await waitFor(() => parseFrames(ws.received()).frames.length === 1, { message: 'upstream frame relayed' });
    expect(parseFrames(ws.received()).frames[0]!.payload.toString()).toBe('still here');
    expect(ws.ended()).toBe(false);
    ws.socket.destroy();
  });

  it('passes a fragmented message that adds up to exactly the limit, with pings and a pong interleaved (control frames are not counted)', async () => {
    const ws = await open();
    const parts = [
      frame({ opcode: OP.TEXT, fin: false, payload: bytes(LIMIT / 2) }),
      frame({ opcode: OP.PING, payload: bytes(125, 0x70) }),
      frame({ opcode: OP.CONTINUATION, fin: false, payload: bytes(LIMIT / 4) }),
      frame({ opcode: OP.PONG, payload: Buffer.from('p') }),
      frame({ opcode: OP.PING }),
      frame({ opcode: OP.CONTINUATION, fin: true, payload: bytes(LIMIT / 4) }),
      // A second message right after: the count starts again.
      frame({ opcode: OP.TEXT, payload: bytes(LIMIT) }),
    ];
    for (const p of parts) ws.socket.write(p);
    const all = Buffer.concat(parts);
    const up = await upstreamConn();
    await waitFor(() => up.bytes.length >= all.length, { message: 'every frame forwarded' });
    expect(up.bytes.equals(all)).toBe(true);
    expect(parseFrames(up.bytes).frames.map((f) => f.opcode)).toEqual([OP.TEXT, OP.PING, OP.CONTINUATION, OP.PONG, OP.PING, OP.CONTINUATION, OP.TEXT]);
    expect(ws.ended()).toBe(false);
    ws.socket.destroy();
  });

  it('closes with 1009 on one masked frame one byte over the limit; the upstream gets none of it', async () => {
    const ws = await open();
    const up = await upstreamConn();
    ws.socket.write(frame({ opcode: OP.BINARY, payload: bytes(LIMIT + 1) }));
    await expectClosedWith(ws, 1009);
    await waitFor(() => up.closed, { message: 'upstream connection cut' });
    expect(up.bytes.length).toBe(0);
  });

  it('closes with 1009 when continuation frames take a message past the limit; the upstream gets the fragments before, never the one that passed it', async () => {
    const ws = await open();
    const up = await upstreamConn();
    const before = [frame({ opcode: OP.TEXT, fin: false, payload: bytes(LIMIT / 2) }), frame({ opcode: OP.CONTINUATION, fin: false, payload: bytes(LIMIT / 2 - 10) })];
    for (const p of before) ws.socket.write(p);
    const allowed = Buffer.concat(before);
    await waitFor(() => up.bytes.length === allowed.length, { message: 'fragments within the limit forwarded' });
    ws.socket.write(frame({ opcode: OP.CONTINUATION, fin: true, payload: bytes(11, 0x7a) }));
    await expectClosedWith(ws, 1009);
    await waitFor(() => up.closed, { message: 'upstream connection cut' });
    expect(up.bytes.equals(allowed)).toBe(true);
  });

  it.each([
    ['2^40 bytes', 2n ** 40n],
    ['2^63 bytes (the reserved top bit)', 2n ** 63n],
    ['2^64 - 1 bytes', 2n ** 64n - 1n],
  ])('closes with 1009 on a frame declaring %s with a few bytes sent; nothing reaches the upstream', async (_name, length) => {
    const ws = await open();
    const up = await upstreamConn();
    ws.socket.write(frame({ opcode: OP.BINARY, length, payload: bytes(100) }));
    await expectClosedWith(ws, 1009);
    await waitFor(() => up.closed, { message: 'upstream connection cut' });
    expect(up.bytes.length).toBe(0);
  });

  it('closes with 1009 on an oversized frame sent in the same packet as the handshake (before the gateway answered)', async () => {
    const ws = await open(frame({ opcode: OP.BINARY, payload: bytes(LIMIT + 1) }));
    await expectClosedWith(ws, 1009);
    const up = await upstreamConn();
    await waitFor(() => up.closed, { message: 'upstream connection cut' });
    expect(up.bytes.length).toBe(0);
  });

  it('closes with 1009 on an oversized frame whose header arrives one byte at a time; the upstream gets only the header bytes before it was complete', async () => {
    const ws = await open();
    const up = await upstreamConn();
    const header = frame({ opcode: OP.BINARY, payload: bytes(LIMIT + 1) }).subarray(0, 14); // 2 + 8 (64-bit length) + 4 (mask)
    ws.socket.setNoDelay(true);
    for (let i = 0; i < 13; i++) {
      ws.socket.write(header.subarray(i, i + 1));
      // Each byte in its own read: wait until the gateway relayed it before sending the next.
      await waitFor(() => up.bytes.length === i + 1, { message: `header byte ${i} relayed` });
    }
    ws.socket.write(header.subarray(13));
    await expectClosedWith(ws, 1009);
    await waitFor(() => up.closed, { message: 'upstream connection cut' });
    expect(up.bytes.equals(header.subarray(0, 13))).toBe(true);
  });

  it.each([
    ['a ping with a 126-byte payload', frame({ opcode: OP.PING, payload: bytes(126) })],
    ['a ping declaring 2^40 bytes (a way around the message limit)', frame({ opcode: OP.PING, length: 2n ** 40n, payload: bytes(100) })],
    ['a fragmented ping', frame({ opcode: OP.PING, fin: false, payload: bytes(10) })],
  ])('closes with 1002 on %s; the upstream gets nothing', async (_name, f) => {
    const ws = await open();
    const up = await upstreamConn();
    ws.socket.write(f);
    await expectClosedWith(ws, 1002);
    await waitFor(() => up.closed, { message: 'upstream connection cut' });
    expect(up.bytes.length).toBe(0);
  });

  it('does not slip its close frame into the middle of an upstream frame: it cuts the connection instead', async () => {
    const ws = await open();
    const up = await upstreamConn();
    // The upstream starts a 1 MB frame and sends only part of it.
    up.socket.write(frame({ opcode: OP.BINARY, length: 1 << 20, payload: bytes(1000, 0x62), mask: false }));
    await waitFor(() => ws.bytesRead() >= 1010, { message: 'partial upstream frame relayed' });
    ws.socket.write(frame({ opcode: OP.BINARY, payload: bytes(LIMIT + 1) }));
    await waitFor(() => ws.ended(), { message: 'connection cut' });
    // Exactly the partial frame: no close frame spliced after it.
    expect(ws.received().length).toBe(1010);
    expect(ws.received().subarray(10).equals(bytes(1000, 0x62))).toBe(true);
  });
});

describe('WebSocket message size limit, end to end with the ws library', () => {
  let server: http.Server;
  let received: Buffer[];
  let gw: TestGateway;
  beforeAll(async () => {
    received = [];
    server = http.createServer();
    const wss = new WebSocketServer({ server, maxPayload: 0 });
    wss.on('connection', (sock) => sock.on('message', (m: Buffer) => received.push(m)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({
      gateway: { limits: { maxWebSocketMessage: LIMIT } },
      routeFiles: { 'r.yaml': { upstreams: { ws: { targets: [{ url }] } }, routes: [{ id: 'ws', match: { path: '/*' }, upstream: 'ws' }] } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a client sending a message over the limit gets close code 1009; pings before it are answered; the upstream never sees the message', async () => {
    const ws = new WebSocket(gw.url.replace('http', 'ws') + '/chat');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const pong = new Promise<Buffer>((r) => ws.once('pong', r));
    ws.ping('are you there');
    expect((await pong).toString()).toBe('are you there');
    ws.send(bytes(LIMIT, 0x31));
    await waitFor(() => received.length === 1, { message: 'message at the limit delivered' });
    expect(received[0]!.equals(bytes(LIMIT, 0x31))).toBe(true);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(bytes(LIMIT + 1, 0x32));
    expect(await closed).toBe(1009);
    expect(received).toHaveLength(1);
  });
});
