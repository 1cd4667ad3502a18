/**
 * 13.3: shutdown ends within `shutdownTimeout` plus a small bound, whatever
 * state the HTTP/2 sessions are in. Sessions are driven into each odd state —
 * a connection error (GOAWAY sent, socket not read), a response half read and
 * then abandoned by a vanished client, an open idle session, an upload whose
 * body never ends, a client that stopped reading — then the gateway is closed,
 * in-process (close()) and as the real CLI process (SIGTERM).
 */
import { afterEach, describe, expect, it } from 'vitest';
import http2 from 'node:http2';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, waitFor, type TestUpstream } from '../../src/testing/index.js';
import { startCli } from '../helpers/cli.js';
import { DATA, END_HEADERS, END_STREAM, frame, headerBlock, HEADERS, makeCert, PREFACE, rawH2, SETTINGS, writesStuck, startTlsGateway, WINDOW_UPDATE, type Cert } from './h2-helpers.js';

const SHUTDOWN_MS = 1000;
/** BOUND is the "small bound" past shutdownTimeout. */
const BOUND_MS = 1500;

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** upstream: /big streams 64 MB with back-pressure; anything else is held (never answered). */
async function upstream(seen: Set<string>): Promise<TestUpstream> {
  return startUpstream(
    'up',
    (req: IncomingMessage, res: ServerResponse) => {
      seen.add(req.url!);
      req.resume();
      if (!req.url!.startsWith('/big')) return;
      let left = 64 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      res.writeHead(200, { 'content-length': left });
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    },
    { stream: true },
  );
}

/** driveOddStates opens one session in each odd state against `port` and resolves once each is in it. */
async function driveOddStates(port: number, ca: Buffer, seen: Set<string>): Promise<() => void> {
  const toClose: Array<() => void> = [];
  // 1. Connection error with a request in flight: GOAWAY sent, socket no longer read.
  const broken = await rawH2(port);
  toClose.push(() => broken.socket.destroy());
  broken.write(Buffer.concat([frame(HEADERS, END_HEADERS, 1, headerBlock('POST', '/hold/broken')), frame(DATA, 0, 1, Buffer.from('x'))]));
  await waitFor(() => seen.has('/hold/broken'), { message: 'the broken session request at the upstream' });
  broken.write(frame(DATA, 0, 1, Buffer.alloc(20000)));
  await waitFor(() => broken.frames().some((f) => f.type === 0x7), { message: 'GOAWAY' });

  // 2. Half-read response, client gone without a word, with a 2 GiB window (writes stuck in the socket).
  const vanished = await rawH2(port, { preface: false });
  const inc = Buffer.alloc(4);
  inc.writeUInt32BE(0x7fffffff - 65535);
  vanished.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.from([0, 4, 0x7f, 0xff, 0xff, 0xff])), frame(WINDOW_UPDATE, 0, 0, inc), frame(HEADERS, END_HEADERS | END_STREAM, 1, headerBlock('GET', '/big/vanished'))]));
  await waitFor(() => vanished.received().length > 256 * 1024, { message: 'the first bytes of /big/vanished' });
  vanished.socket.pause();
  // Destroyed once the gateway's writes wait in the socket: node no longer reads it, and missed this close.
  await writesStuck(port, vanished.socket.localPort!);
  vanished.socket.destroy();

  // 3. An open idle session (a well-behaved client that answers PINGs).
  const idle = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: 'gw.test' });
  idle.on('error', () => undefined);
  toClose.push(() => idle.destroy());
  await new Promise<void>((resolve) => {
    const r = idle.request({ ':path': '/big/idle-first', ':authority': 'gw.test', ':method': 'HEAD' });
    r.on('error', () => resolve());
    r.on('close', () => resolve());
    r.resume();
  });

  // 4. A stalled upload: headers and part of a body, never ended.
  const upload = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: 'gw.test' });
  upload.on('error', () => undefined);
  toClose.push(() => upload.destroy());
  const u = upload.request({ ':method': 'POST', ':path': '/hold/upload', ':authority': 'gw.test' });
  u.on('error', () => undefined);
  u.write('abc');
  await waitFor(() => seen.has('/hold/upload'), { message: 'the stalled upload at the upstream' });

  // 5. A client that stopped reading a large response.
  const stopped = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: 'gw.test' });
  stopped.on('error', () => undefined);
  toClose.push(() => stopped.destroy());
  const s = stopped.request({ ':path': '/big/stopped', ':authority': 'gw.test' });
  s.on('error', () => undefined);
  s.pause();
  await waitFor(() => seen.has('/big/stopped'), { message: 'the unread response at the upstream' });
  return () => toClose.forEach((c) => c());
}

describe('13.3: shutdown with HTTP/2 sessions in odd states', () => {
  it('13.3: close() ends within shutdownTimeout plus a small bound', async () => {
    const cert = makeCert();
    cleanup.push(() => cert.cleanup());
    const seen = new Set<string>();
    const up = await upstream(seen);
    cleanup.push(() => up.close());
    // Long client limits: nothing but the shutdown may end these sessions during the test.
    const gw = await startTlsGateway(
      cert,
      { shutdownTimeout: `${SHUTDOWN_MS}ms`, limits: { keepAliveTimeout: '60s', requestTimeout: '60s', sendTimeout: '60s' } },
      { 'r.yaml': { upstreams: { up: { targets: [{ url: up.url }] } }, routes: [{ id: 'all', match: { path: '/*' }, upstream: 'up', retry: { bufferBody: 0 } }] } },
    );
    const closeClients = await driveOddStates(gw.port, cert.ca, seen);
    cleanup.push(closeClients);
    const t0 = performance.now();
    await gw.close();
    expect(performance.now() - t0).toBeLessThan(SHUTDOWN_MS + BOUND_MS);
  }, 30000);

  it('13.3: the CLI process exits 0 on SIGTERM within shutdownTimeout plus a small bound', async () => {
    const cert = makeCert();
    cleanup.push(() => cert.cleanup());
    const seen = new Set<string>();
    const up = await upstream(seen);
    cleanup.push(() => up.close());
    const dir = mkdtempSync(join(tmpdir(), 'sy-h2-shutdown-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'routes'));
    writeFileSync(join(dir, 'routes', 'r.yaml'), `upstreams:\n  up:\n    targets: [{ url: "${up.url}" }]\nroutes:\n  - { id: all, match: { path: /* }, upstream: up, retry: { bufferBody: 0 } }\n`);
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `listen: { host: 127.0.0.1, port: 0, tls: { certificates: [{ cert: "${cert.cert}", key: "${cert.key}" }], recheck: 0 } }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: ./routes\nshutdownTimeout: ${SHUTDOWN_MS}ms\nlimits: { keepAliveTimeout: 60s, requestTimeout: 60s, sendTimeout: 60s }\nlog: { level: info }\n`,
    );
    const cli = await startCli(join(dir, 'gateway.yaml'));
    cleanup.push(() => void cli.child.kill('SIGKILL'));
    const closeClients = await driveOddStates(cli.port, cert.ca, seen);
    cleanup.push(closeClients);
    const t0 = performance.now();
    cli.child.kill('SIGTERM');
    // The process's own exit (Redis, admin, pools) adds a little to the listener's bound.
    const code = await Promise.race([cli.exited, waitFor(() => false, { timeout: SHUTDOWN_MS + BOUND_MS + 2000, message: 'the process to exit' })]);
    expect(code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(SHUTDOWN_MS + BOUND_MS + 2000);
  }, 40000);
});
