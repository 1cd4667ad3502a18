/**
 * 13.1: HTTP/2 connection errors must not leak the TCP connection. A raw
 * HTTP/2 client opens a request whose body is still coming (so a request is
 * in flight at the upstream), then sends a frame that is a connection error.
 * The gateway answers GOAWAY (nghttp2) and must then close the connection
 * (RFC 9113 §5.4.1), abort the upstream request, and leave nothing behind:
 * no socket open in node's count, none in CLOSE-WAIT or ESTABLISHED in the
 * kernel's, every `limits.maxConnections` slot free for new clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import type { ServerResponse } from 'node:http';
import { startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { closeWait, connections, DATA, END_HEADERS, frame, headerBlock, HEADERS, kernelSockets, makeCert, rawH2, SETTINGS, startTlsGateway, type Cert } from './h2-helpers.js';

const GOAWAY = 0x7;
const MAX_CONNECTIONS = 4;
/** CLOSE_BOUND is how soon after the bad frame the connection must be gone: silence probe (1 s) + PING deadline (3 s) + slack. */
const CLOSE_BOUND_MS = 6000;

const BAD_FRAMES: Array<[string, Buffer]> = [
  ['a DATA frame over 16,384 bytes (FRAME_SIZE_ERROR)', frame(DATA, 0, 1, Buffer.alloc(20000, 0x61))],
  ['DATA on stream 0', frame(DATA, 0, 0, Buffer.from('stream zero'))],
  ['a SETTINGS frame whose length is not a multiple of 6', frame(SETTINGS, 0, 0, Buffer.alloc(7))],
  ['garbage after the preface (an HTTP/1.1 request)', Buffer.from('GET / HTTP/1.1\r\nHost: gw.test\r\n\r\n', 'latin1')],
  ['garbage after the preface (bytes)', Buffer.from('00000aff0000000000deadbeefcafebabe0102ffffffff7f', 'hex')],
];

describe('13.1: HTTP/2 connection errors close the connection', () => {
  let cert: Cert;
  let up: TestUpstream;
  let gw: TestGateway;
  /** held are the upstream's requests still open, by path; closed lists the paths whose request the gateway aborted. */
  const held = new Map<string, ServerResponse>();
  const aborted: string[] = [];

  beforeAll(async () => {
    cert = makeCert();
    up = await startUpstream(
      'hold',
      (req, res) => {
        if (req.url === '/ok') return void res.writeHead(200, { 'content-length': 2 }).end('ok');
        held.set(req.url!, res);
        req.once('close', () => {
          if (!res.writableEnded) aborted.push(req.url!);
        });
        req.resume();
      },
      { stream: true },
    );
    gw = await startTlsGateway(
      cert,
      { limits: { maxConnections: MAX_CONNECTIONS } },
      // bufferBody 0: the request goes to the upstream at its first body byte, its body still open.
      { 'r.yaml': { upstreams: { hold: { targets: [{ url: up.url }] } }, routes: [{ id: 'all', match: { path: '/*' }, upstream: 'hold', retry: { bufferBody: 0 } }] } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    cert?.cleanup();
  });

  it.each(BAD_FRAMES.map(([name, bytes], i) => [name, bytes, `/bad/${i}`] as const))('13.1: %s: GOAWAY, then the connection is closed and the request in flight aborted', async (_name, bad, path) => {
    const c = await rawH2(gw.port);
    c.write(Buffer.concat([frame(HEADERS, END_HEADERS, 1, headerBlock('POST', path)), frame(DATA, 0, 1, Buffer.from('x'))]));
    await waitFor(() => held.has(path), { message: `${path} at the upstream` });
    const sent = performance.now();
    c.write(bad);
    await waitFor(() => c.frames().some((f) => f.type === GOAWAY), { message: 'GOAWAY' });
    await Promise.race([c.closed, waitFor(() => false, { timeout: CLOSE_BOUND_MS, message: 'the gateway to close the connection' })]);
    expect(performance.now() - sent).toBeLessThan(CLOSE_BOUND_MS);
    await waitFor(() => aborted.includes(path), { message: `${path} aborted at the upstream` });
  }, 20000);

  it('13.1: leaves no socket behind (node count, no CLOSE-WAIT or ESTABLISHED in the kernel) and every maxConnections slot free', async () => {
    await waitFor(async () => (await connections(gw)) === 0, { timeout: CLOSE_BOUND_MS, message: 'no open connection' });
    expect(closeWait(gw.port)).toEqual([]);
    expect(kernelSockets(gw.port).filter((l) => !l.startsWith('TIME-WAIT'))).toEqual([]);
    // All slots: as many clients as maxConnections are served at once.
    const sessions = Array.from({ length: MAX_CONNECTIONS }, () => http2.connect(`https://127.0.0.1:${gw.port}`, { ca: cert.ca, servername: 'gw.test' }));
    try {
      const statuses = await Promise.all(
        sessions.map(
          (s) =>
            new Promise<number>((resolve, reject) => {
              s.on('error', reject);
              const r = s.request({ ':path': '/ok', ':authority': 'gw.test' });
              r.on('response', (h) => resolve(Number(h[':status'])));
              r.on('error', reject);
              r.resume();
              r.end();
            }),
        ),
      );
      expect(statuses).toEqual(Array(MAX_CONNECTIONS).fill(200));
    } finally {
      for (const s of sessions) s.destroy();
    }
  }, 20000);
});
