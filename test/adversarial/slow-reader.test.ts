/**
 * Slow readers: a client that reads a large response slowly (or stops
 * reading) must not make the gateway buffer the response. The gateway has to
 * pass the back-pressure on: the upstream's writes stall (`write()` returns
 * false and no 'drain' comes) with only a bounded number of bytes in flight
 * beyond what the client has read — socket buffers, not the response — and
 * the gateway's own write queue to the client stays within a chunk or two.
 * Both a 64 MB HTTP response and 64 MB of WebSocket frames from the upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { ServerResponse } from 'node:http';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { get } from './helpers.js';
import { frame, openWs, startWsRecorder, upgradeRequest, type WsRecorder } from './ws-helpers.js';

const MB = 1024 * 1024;
const TOTAL = 64 * MB;
const CHUNK = Buffer.alloc(256 * 1024, 0x61);

/**
 * IN_FLIGHT bounds the bytes an upstream may have written beyond what the
 * client read: the kernel buffers on both legs (loopback send buffers grow
 * to 4 MB each; receive buffers autotune while data flows) plus the streams'
 * high-water marks. Measured: 7–10 MB. A gateway that buffered the response
 * would let the upstream write all 64 MB.
 */
const IN_FLIGHT = 24 * MB;
/** HELD bounds what the gateway itself holds for the client in its write queue (a chunk or two, never the response). */
const HELD = 1 * MB;

/** heldForClients is the bytes queued in the gateway's client sockets, waiting for the kernel to take them. */
function heldForClients(gw: TestGateway): number {
  // Private, on purpose: this is the buffer a gateway that ignores back-pressure would grow.
  const sockets = (gw.gateway as unknown as { sockets: Set<net.Socket> }).sockets;
  let n = 0;
  for (const s of sockets) n += s.writableLength;
  return n;
}

/** Producer writes `total` bytes with `write`, honouring back-pressure, and reports where it is. */
class Producer {
  produced = 0;
  /** blocked is true while the last write returned false and no 'drain' came yet. */
  blocked = false;
  /** stalls counts the writes that returned false. */
  stalls = 0;
  constructor(
    private readonly total: number,
    private readonly write: (chunk: Buffer) => boolean,
    private readonly onDrain: (fn: () => void) => void,
    private readonly end: () => void,
  ) {}

  pump(): void {
    while (this.produced < this.total) {
      const c = this.make(Math.min(CHUNK.length, this.total - this.produced));
      this.produced += c.length;
      if (!this.write(c)) {
        this.blocked = true;
        this.stalls++;
        this.onDrain(() => {
          this.blocked = false;
          this.pump();
        });
        return;
      }
    }
    this.end();
  }

  /** make is the next chunk of `n` payload bytes (overridden for framing). */
  make(n: number): Buffer {
    return n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n);
  }
}

/** stalled waits until the producer is blocked and has not moved for a few polls (the pipeline is full). */
async function stalled(p: Producer, what: string): Promise<number> {
  let last = -1;
  let still = 0;
  await waitFor(
    () => {
      if (p.blocked && p.produced === last) still++;
      else still = 0;
      last = p.produced;
      return still >= 5;
    },
    { timeout: 10000, interval: 50, message: `${what}: upstream writes stall` },
  );
  return p.produced;
}

/** SlowClient reads a connection in steps: paused, then `read(n)` lets n more bytes in, then paused again. */
class SlowClient {
  received = 0;
  private target = 0;
  private reached: (() => void) | undefined;
  constructor(readonly socket: net.Socket) {
    socket.pause();
    socket.on('data', (c: Buffer) => {
      this.received += c.length;
      if (this.received >= this.target) {
        socket.pause();
        this.reached?.();
      }
    });
  }

  /** readAll resumes for good. */
  readAll(): void {
    this.target = Infinity;
    this.socket.resume();
  }

  /** read resumes until `n` more bytes arrived (or the stream ended), then pauses. */
  read(n: number): Promise<void> {
    this.target = this.received + n;
    return new Promise((resolve) => {
      this.reached = resolve;
      this.socket.once('end', resolve);
      this.socket.resume();
    });
  }
}

describe('a client reading a 64 MB response slowly', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let producer: Producer | undefined;
  beforeAll(async () => {
    up = await startUpstream(
      'big',
      (_req, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TOTAL });
        producer = new Producer(
          TOTAL,
          (c) => res.write(c),
          (fn) => res.once('drain', fn),
          () => res.end(),
        );
        producer.pump();
      },
      { stream: true },
    );
    gw = await startGateway({
      gateway: {},
      routeFiles: { 'r.yaml': { upstreams: { big: { targets: [{ url: up.url }] } }, routes: [{ id: 'big', match: { path: '/*' }, upstream: 'big' }] } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('back-pressures the upstream instead of buffering: writes stall within a bounded distance of what the client read', async () => {
    const socket = net.connect({ port: gw.port, host: '127.0.0.1' });
    const client = new SlowClient(socket);
    await new Promise((r) => socket.once('connect', r));
    socket.write(get('/big'));
    const p = await waitFor(() => producer, { message: 'upstream answering' });
    // Paused from the start, then 1 MB at a time: after each step the upstream stalls again.
    for (let step = 0; step < 4; step++) {
      const at = await stalled(p, `step ${step}`);
      expect(at - client.received).toBeLessThan(IN_FLIGHT);
      expect(heldForClients(gw)).toBeLessThan(HELD);
      await client.read(MB);
    }
    expect(p.produced).toBeLessThan(TOTAL / 2);
    // Then it reads everything: the whole body arrives, nothing lost.
    client.readAll();
    await waitFor(() => client.received >= TOTAL, { timeout: 20000, message: 'whole body read' });
    expect(p.produced).toBe(TOTAL);
    socket.destroy();
  }, 60000);
});

describe('a WebSocket client reading 64 MB of upstream frames slowly', () => {
  let rec: WsRecorder;
  let gw: TestGateway;
  beforeAll(async () => {
    rec = await startWsRecorder();
    gw = await startGateway({
      gateway: {},
      routeFiles: { 'r.yaml': { upstreams: { ws: { targets: [{ url: rec.url }] } }, routes: [{ id: 'ws', match: { path: '/*' }, upstream: 'ws' }] } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await rec?.close();
  });

  it('back-pressures the upstream socket: its writes stall within a bounded distance of what the client read', async () => {
    let producer: Producer | undefined;
    rec.onOpen((conn) => {
      const p = new Producer(
        TOTAL,
        (c) => conn.socket.write(c),
        (fn) => conn.socket.once('drain', fn),
        () => undefined,
      );
      // Server frames: unmasked binary frames of 256 KB (produced counts them whole, headers included).
      p.make = (n) => frame({ opcode: 0x2, payload: n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n), mask: false });
      producer = p;
      p.pump();
    });
    const ws = await openWs(gw.port, upgradeRequest('/feed'), { keep: false });
    expect(ws.status).toBe(101);
    const client = new SlowClient(ws.socket);
    const p = await waitFor(() => producer, { message: 'upstream sending' });
    for (let step = 0; step < 4; step++) {
      const at = await stalled(p, `step ${step}`);
      expect(at - ws.bytesRead()).toBeLessThan(IN_FLIGHT);
      expect(heldForClients(gw)).toBeLessThan(HELD);
      await client.read(MB);
    }
    expect(p.produced).toBeLessThan(TOTAL / 2);
    client.readAll();
    await waitFor(() => p.produced >= TOTAL && ws.bytesRead() === p.produced, { timeout: 20000, message: 'every frame read' });
    ws.socket.destroy();
  }, 60000);
});

/** eventCount sums switchyard_events_total for one event (every upstream) from the exposition text. */
function eventCount(text: string, event: string): number {
  let n = 0;
  for (const l of text.split('\n')) if (l.startsWith('switchyard_events_total{') && l.includes(`event="${event}"`)) n += Number(l.slice(l.lastIndexOf(' ') + 1));
  return n;
}

describe('limits.sendTimeout: a client that stops reading is cut, releasing the upstream', () => {
  const SEND_TIMEOUT = 500;
  let up: TestUpstream;
  let rec: WsRecorder;
  let gw: TestGateway;
  /** responses lists each upstream response and whether it was abandoned (closed before finishing). */
  const responses: Array<{ producer: Producer; aborted: boolean; finished: boolean }> = [];
  beforeAll(async () => {
    up = await startUpstream(
      'big',
      (req, res: ServerResponse) => {
        const size = Number(new URL(req.url!, 'http://x').searchParams.get('size') ?? TOTAL);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        const entry = { producer: undefined as unknown as Producer, aborted: false, finished: false };
        entry.producer = new Producer(
          size,
          (c) => res.write(c),
          (fn) => res.once('drain', fn),
          () => res.end(),
        );
        res.once('finish', () => (entry.finished = true));
        res.once('close', () => (entry.aborted = !entry.finished));
        responses.push(entry);
        entry.producer.pump();
      },
      { stream: true },
    );
    rec = await startWsRecorder();
    gw = await startGateway({
      gateway: { limits: { sendTimeout: SEND_TIMEOUT } },
      routeFiles: {
        'r.yaml': {
          upstreams: { big: { targets: [{ url: up.url }] }, ws: { targets: [{ url: rec.url }] } },
          routes: [
            { id: 'big', match: { path: '/big' }, upstream: 'big' },
            { id: 'ws', match: { path: '/ws' }, upstream: 'ws' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    await rec?.close();
  });

  it('HTTP: a client that never reads is cut once its connection stayed full for sendTimeout; the upstream response is abandoned', async () => {
    const socket = net.connect({ port: gw.port, host: '127.0.0.1' });
    socket.pause();
    await new Promise((r) => socket.once('connect', r));
    const t0 = Date.now();
    socket.write(get('/big'));
    const entry = await waitFor(() => responses.at(-1), { message: 'upstream answering' });
    await waitFor(() => entry.aborted, { timeout: 5000, message: 'upstream response abandoned' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(SEND_TIMEOUT);
    expect(entry.producer.produced).toBeLessThan(TOTAL);
    const target = gw.gateway.runtime.upstreams.get('big')!.targets[0]!;
    await waitFor(() => target.inflight === 0, { message: 'no request in flight' });
    expect(eventCount(await gw.gateway.metricsText(), 'send_timeout')).toBe(1);
    socket.destroy();
  });

  it('HTTP: a client reading slowly but steadily (each stall shorter than sendTimeout) gets the whole response', async () => {
    const size = 2 * MB;
    const socket = net.connect({ port: gw.port, host: '127.0.0.1' });
    const client = new SlowClient(socket);
    await new Promise((r) => socket.once('connect', r));
    socket.write(get(`/big?size=${size}`));
    const before = responses.length;
    const entry = await waitFor(() => responses[before], { message: 'upstream answering' });
    // 256 KB at a time, with a pause well under the timeout between reads (the pacing is the scenario), for longer than one timeout in all.
    while (client.received < size) {
      await client.read(Math.min(256 * 1024, size - client.received));
      await new Promise((r) => setTimeout(r, SEND_TIMEOUT / 5));
    }
    client.readAll();
    // The body plus the response head.
    await waitFor(() => entry.finished && client.received > size, { message: 'whole response read' });
    expect(entry.aborted).toBe(false);
    expect(eventCount(await gw.gateway.metricsText(), 'send_timeout')).toBe(1);
    socket.destroy();
  }, 30000);

  it('WebSocket: a client that stops reading what the upstream sends is cut after sendTimeout; the upstream connection is closed', async () => {
    rec.onOpen((conn) => {
      const p = new Producer(
        TOTAL,
        (c) => conn.socket.write(c),
        (fn) => conn.socket.once('drain', fn),
        () => undefined,
      );
      p.make = (n) => frame({ opcode: 0x2, payload: n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n), mask: false });
      p.pump();
    });
    const ws = await openWs(gw.port, upgradeRequest('/ws'), { keep: false });
    expect(ws.status).toBe(101);
    ws.socket.pause();
    const conn = await waitFor(() => rec.connections[0], { message: 'upstream connected' });
    await waitFor(() => conn.closed, { timeout: 5000, message: 'upstream WebSocket closed' });
    expect(eventCount(await gw.gateway.metricsText(), 'send_timeout')).toBe(2);
    const target = gw.gateway.runtime.upstreams.get('ws')!.targets[0]!;
    await waitFor(() => target.openWebSockets === 0 && target.inflight === 0, { message: 'target counters back to 0' });
    ws.socket.destroy();
  });

  it('WebSocket: an idle connection (nothing to send) is never cut by the send timeout', async () => {
    rec.reset();
    const ws = await openWs(gw.port, upgradeRequest('/ws'), { keep: true });
    expect(ws.status).toBe(101);
    const conn = await waitFor(() => rec.connections[0], { message: 'upstream connected' });
    // Quiet for three timeouts (the scenario is the wait itself), then both directions still work.
    await new Promise((r) => setTimeout(r, SEND_TIMEOUT * 3));
    conn.socket.write(frame({ opcode: 0x1, payload: Buffer.from('hi'), mask: false }));
    await waitFor(() => ws.received().length === 4, { message: 'upstream frame relayed' });
    ws.socket.write(frame({ opcode: 0x1, payload: Buffer.from('yo') }));
    await waitFor(() => conn.bytes.length === 8, { message: 'client frame relayed' });
    expect(conn.closed).toBe(false);
    ws.socket.destroy();
  });
});
