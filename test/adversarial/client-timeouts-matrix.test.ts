/**
 * 13.2 and 13.4: every client-side timeout and limit that holds for HTTP/1.1
 * holds for HTTP/2 on the same TLS listener. One table of cases, each run on
 * both protocols: headers that never end, a body that never ends (408), an
 * idle connection (keep-alive), a client that stops reading (send timeout),
 * a client that vanishes while reading slowly (noticed at once, the upstream
 * request cancelled, client-closed outcome), and the size limits (431, 414,
 * 413). After each, the upstream request is released and no connection is
 * left open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import tls from 'node:tls';
import { startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { connections, END_HEADERS, END_STREAM, frame, headerBlock, HEADERS, makeCert, PREFACE, rawH2, SETTINGS, startTlsGateway, WINDOW_UPDATE, writesStuck, type Cert } from './h2-helpers.js';

type Proto = 'http1.1 over TLS' | 'h2';

/** The limits under test, short so the matrix runs in seconds. */
const LIMITS = { headerTimeout: '1s', requestTimeout: '2s', keepAliveTimeout: '1s', sendTimeout: '2s', maxConnections: 8, maxHeaders: 20, maxUrlLength: 256, bodyLimit: 1000 };
/** SLACK covers node's HTTP/1.1 timeout sweep (connectionsCheckingInterval, 1 s) and scheduling. */
const SLACK_MS = 1500;

/** Reply is what one request got. */
interface Reply {
  status: number;
  body: string;
}

/** Client speaks one protocol to the gateway. */
interface Client {
  /** request sends a whole request and reads the whole response. */
  request(path: string, opts?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply>;
  /** stalledHeaders starts a request whose headers never end; resolves with what came back once the connection closed, and when. */
  stalledHeaders(path: string): Promise<{ status: number; ms: number }>;
  /** stalledBody sends headers and part of a body that never ends; resolves with the status answered, and when. */
  stalledBody(path: string): Promise<{ status: number; ms: number }>;
  /** idleAfterOne makes one request, then stays idle; resolves with the ms until the gateway closed the connection. */
  idleAfterOne(path: string): Promise<number>;
  /** stopReading requests `path` and never reads the response; returns a function that closes the client. */
  stopReading(path: string): Promise<() => void>;
  /** vanish reads `path` slowly, then drops its TCP connection without a word; resolves when it dropped it. */
  vanish(path: string): Promise<void>;
}

function h1(port: number, stalled: Set<string>): Client {
  const connect = () =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', servername: 'gw.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(s));
      s.once('error', reject);
    });
  /** exchange writes `head` and collects bytes until the gateway closes. */
  const untilClosed = async (data: string) => {
    const s = await connect();
    const t0 = performance.now();
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', () => undefined);
    s.write(data);
    await new Promise((r) => s.once('close', r));
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), ms: performance.now() - t0 };
  };
  return {
    async request(path, opts = {}) {
      const s = await connect();
      const body = opts.body ?? '';
      const extra = Object.entries(opts.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      s.on('error', () => undefined);
      s.write(`${opts.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: gw.test\r\n${extra}content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      await new Promise((r) => s.once('close', r));
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), body: got.slice(got.indexOf('\r\n\r\n') + 4) };
    },
    stalledHeaders: (path) => untilClosed(`GET ${path} HTTP/1.1\r\nHost: gw.test\r\nx-slow: `),
    stalledBody: (path) => untilClosed(`POST ${path} HTTP/1.1\r\nHost: gw.test\r\ncontent-length: 100\r\n\r\nabc`),
    async idleAfterOne(path) {
      const s = await connect();
      s.on('error', () => undefined);
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      s.write(`GET ${path} HTTP/1.1\r\nHost: gw.test\r\n\r\n`);
      await waitFor(() => got.includes('\r\n\r\nok'), { message: 'the response' });
      const t0 = performance.now();
      await new Promise((r) => s.once('close', r));
      return performance.now() - t0;
    },
    async stopReading(path) {
      const s = await connect();
      s.on('error', () => undefined);
      s.write(`GET ${path} HTTP/1.1\r\nHost: gw.test\r\n\r\n`);
      s.pause();
      return () => s.destroy();
    },
    async vanish(path) {
      const s = await connect();
      s.on('error', () => undefined);
      s.write(`GET ${path} HTTP/1.1\r\nHost: gw.test\r\n\r\n`);
      await slowRead(s);
      await waitFor(() => stalled.has(path), { message: 'the response backed up to the upstream' });
      s.destroy();
    },
  };
}

/** slowRead reads about 256 KiB, 16 KiB at a time with pauses (a rate-limited reader), then stops. */
async function slowRead(r: NodeJS.ReadableStream & { pause(): void; resume(): void }): Promise<void> {
  let n = 0;
  await new Promise<void>((resolve) => {
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > 256 * 1024) {
        r.pause();
        r.removeListener('data', onData);
        resolve();
        return;
      }
      r.pause();
      setTimeout(() => r.resume(), 20);
    };
    r.on('data', onData);
  });
}

function h2(port: number, ca: Buffer, stalled: Set<string>): Client {
  const session = (socket?: tls.TLSSocket) => {
    const s = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: 'gw.test', ...(socket ? { createConnection: () => socket } : {}) });
    s.on('error', () => undefined);
    return s;
  };
  return {
    request: (path, opts = {}) =>
      new Promise((resolve, reject) => {
        const s = session();
        const body = opts.body ?? '';
        const r = s.request({ ':method': opts.method ?? 'GET', ':path': path, ':authority': 'gw.test', ...(body ? { 'content-length': String(body.length) } : {}), ...opts.headers });
        let status = 0;
        let out = '';
        r.on('response', (h) => (status = Number(h[':status'])));
        r.on('data', (c: Buffer) => (out += c.toString()));
        r.on('close', () => {
          s.close();
          resolve({ status, body: out });
        });
        r.on('error', reject);
        // node's client ends a GET's stream with its headers.
        if (!r.writableEnded) r.end(body);
      }),
    async stalledHeaders(path) {
      const c = await rawH2(port);
      const t0 = performance.now();
      // A header block without END_HEADERS, and no CONTINUATION ever.
      c.write(frame(HEADERS, 0, 1, headerBlock('GET', path)));
      await c.closed;
      return { status: 0, ms: performance.now() - t0 };
    },
    stalledBody: (path) =>
      new Promise((resolve) => {
        const s = session();
        const t0 = performance.now();
        const r = s.request({ ':method': 'POST', ':path': path, ':authority': 'gw.test', 'content-length': '100' });
        r.on('error', () => undefined);
        r.on('response', (h) => {
          resolve({ status: Number(h[':status']), ms: performance.now() - t0 });
          s.destroy();
        });
        r.write('abc');
      }),
    idleAfterOne: (path) =>
      new Promise((resolve, reject) => {
        const s = session();
        const r = s.request({ ':path': path, ':authority': 'gw.test' });
        r.on('error', reject);
        r.resume();
        r.on('end', () => {
          const t0 = performance.now();
          // The client stays connected (and answers PINGs): only the gateway's idle timeout ends the session.
          s.socket.once('close', () => resolve(performance.now() - t0));
        });
        r.end();
      }),
    async stopReading(path) {
      const s = session();
      const r = s.request({ ':path': path, ':authority': 'gw.test' });
      r.on('error', () => undefined);
      r.pause();
      r.end();
      return () => s.destroy();
    },
    async vanish(path) {
      // Raw frames: a client that grants the gateway a 2 GiB window (as curl does), so what holds the
      // response back is the TCP connection, not HTTP/2 flow control: node then stops reading that socket.
      const c = await rawH2(port, { preface: false });
      const big = Buffer.alloc(4);
      big.writeUInt32BE(0x7fffffff - 65535);
      const settings = Buffer.from([0x00, 0x04, 0x7f, 0xff, 0xff, 0xff]); // SETTINGS_INITIAL_WINDOW_SIZE = 2^31-1
      c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings), frame(WINDOW_UPDATE, 0, 0, big), frame(HEADERS, END_HEADERS | END_STREAM, 1, headerBlock('GET', path))]));
      await waitFor(() => c.received().length > 256 * 1024, { message: 'the first 256 KiB' });
      c.socket.pause();
      // Until the gateway's writes to this client wait in the socket (what stops node reading it).
      await waitFor(() => stalled.has(path), { message: 'the response backed up to the upstream' });
      await writesStuck(port, c.socket.localPort!);
      // As curl --max-time does: the TCP connection goes, no GOAWAY, no RST_STREAM.
      c.socket.destroy();
    },
  };
}

/** Upstream behaviour: /ok answers, /hold/* never answers (and records its close), /big streams 64 MB with back-pressure. */
function upstreamHandler(closed: Map<string, number>, stalled = new Set<string>()) {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.once('close', () => closed.set(req.url!, performance.now()));
    if (req.url === '/ok') return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    if (req.url!.startsWith('/hold/')) return void req.resume();
    if (req.url!.startsWith('/big/')) {
      let left = 64 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      res.writeHead(200, { 'content-length': left });
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left -= chunk.length;
          if (!res.write(chunk)) {
            stalled.add(req.url!);
            return void res.once('drain', pump);
          }
        }
        res.end();
      };
      return pump();
    }
    res.writeHead(404).end();
  };
}

const PROTOCOLS: Proto[] = ['http1.1 over TLS', 'h2'];

describe.each(PROTOCOLS)('client limits on %s', (proto) => {
  let cert: Cert;
  let up: TestUpstream;
  let gw: TestGateway;
  let client: Client;
  const closed = new Map<string, number>();

  beforeAll(async () => {
    cert = makeCert();
    up = await startUpstream('up', upstreamHandler(closed), { stream: true });
    gw = await startTlsGateway(cert, { limits: LIMITS }, { 'r.yaml': { upstreams: { up: { targets: [{ url: up.url }] } }, routes: [{ id: 'all', match: { path: '/*' }, upstream: 'up', retry: { bufferBody: 0 } }] } });
    client = proto === 'h2' ? h2(gw.port, cert.ca, new Set()) : h1(gw.port, new Set());
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    cert?.cleanup();
  });

  /** settled waits until the gateway holds no client connection. */
  const settled = () => waitFor(async () => (await connections(gw)) === 0, { timeout: 5000, message: 'no open client connection' });

  it('13.4: headers that never end: cut within limits.headerTimeout (HTTP/1.1 answers 408 first)', async () => {
    const r = await client.stalledHeaders('/hold/headers');
    expect(r.ms).toBeLessThan(1000 + SLACK_MS);
    // HTTP/2 has no stream to answer on (its header block never completed); the connection is what goes.
    if (proto === 'http1.1 over TLS') expect(r.status).toBe(408);
    expect(closed.has('/hold/headers')).toBe(false);
    await settled();
  });

  it('13.4: a request body that never ends: 408 within limits.requestTimeout, the upstream request released', async () => {
    const path = `/hold/body-${proto === 'h2' ? 'h2' : 'h1'}`;
    const r = await client.stalledBody(path);
    expect(r.status).toBe(408);
    expect(r.ms).toBeLessThan(2000 + SLACK_MS);
    await waitFor(() => closed.has(path), { message: 'the upstream request released' });
    await settled();
  });

  it('13.4: an idle connection is closed after limits.keepAliveTimeout', async () => {
    const ms = await client.idleAfterOne('/ok');
    expect(ms).toBeGreaterThan(500);
    expect(ms).toBeLessThan(1000 + SLACK_MS);
    await settled();
  });

  it('13.4: a client that stops reading is cut after limits.sendTimeout, the upstream request released', async () => {
    const path = `/big/stop-${proto === 'h2' ? 'h2' : 'h1'}`;
    const t0 = performance.now();
    const close = await client.stopReading(path);
    try {
      await waitFor(() => closed.has(path), { timeout: 2000 + 4000, message: 'the upstream request released' });
      expect(closed.get(path)! - t0).toBeGreaterThan(2000);
    } finally {
      close();
    }
    await settled();
  }, 15000);

  it.each([
    ['too many headers', { headers: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-h${i}`, 'v'])) }, 431],
    ['a header block over limits.maxHeaderSize', { headers: { 'x-big': 'v'.repeat(20000) } }, 431],
    ['an over-long URL', { path: `/ok?${'q'.repeat(300)}` }, 414],
    ['a body over limits.bodyLimit', { method: 'POST', body: 'b'.repeat(1001) }, 413],
  ] as const)('13.4: %s is refused the same way', async (_name, opts, status) => {
    const r = await client.request('path' in opts ? opts.path : '/ok', opts as { method?: string; headers?: Record<string, string>; body?: string });
    expect(r.status).toBe(status);
    await settled();
  });
});

describe.each(PROTOCOLS)('13.2: a client that vanishes while reading slowly, on %s', (proto) => {
  let cert: Cert;
  let up: TestUpstream;
  let gw: TestGateway;
  const closed = new Map<string, number>();
  const stalled = new Set<string>();
  const log = captureLog();

  beforeAll(async () => {
    cert = makeCert();
    up = await startUpstream('up', upstreamHandler(closed, stalled), { stream: true });
    // The default sendTimeout (60 s): the vanished client must be noticed without it.
    gw = await startTlsGateway(cert, { limits: { keepAliveTimeout: '30s' } }, { 'r.yaml': { upstreams: { up: { targets: [{ url: up.url }] } }, routes: [{ id: 'all', match: { path: '/*' }, upstream: 'up' }] } }, { logger: log.logger });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    cert?.cleanup();
  });

  it('13.2: is noticed within 2 s: the upstream request is cancelled and the exchange ends client-closed', async () => {
    const client = proto === 'h2' ? h2(gw.port, cert.ca, stalled) : h1(gw.port, stalled);
    const path = `/big/vanish`;
    await client.vanish(path);
    const gone = performance.now();
    await waitFor(() => closed.has(path), { timeout: 10000, message: 'the upstream request cancelled' });
    expect(closed.get(path)! - gone).toBeLessThan(2000);
    const line = await waitFor(() => log.lines.find((l) => l.kind === 'access' && l.path === path), { message: 'the access line' });
    // The client-closed outcome: the error code SY_ERR_CLIENT_CLOSED (status 499, or the status whose head had gone out).
    expect(JSON.stringify([line.code, line.err])).toContain('SY_ERR_CLIENT_CLOSED');
    await waitFor(async () => (await connections(gw)) === 0, { timeout: 5000, message: 'no open client connection' });
  }, 20000);
});
