/**
 * The cap on open client connections (`limits.maxConnections`): past it a
 * new connection is closed as it arrives, without a byte read or answered,
 * while the connections already open keep being served; once one closes, a
 * new one is accepted. Drops are counted, per listener. Checked on the
 * gateway's plain, TLS and HTTPS-redirect listeners (node's own
 * maxConnections) and, for cluster workers, on the counting implementation,
 * with plain HTTP and TLS servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { capConnections, type CapMode } from '../../src/front-door/connection-cap.js';
import { createGateway, type Gateway } from '../../src/gateway/gateway.js';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { get, parseResponses, startRecorder, type Recorder } from './helpers.js';
import { openWs, startWsRecorder, upgradeRequest } from './ws-helpers.js';

/** Client is one kept-alive raw connection. */
interface Client {
  socket: net.Socket;
  /** request sends one request and resolves with its status (0 when the connection closed first). */
  request(path: string): Promise<number>;
  /** closed resolves with the bytes received once the connection is closed. */
  closed: Promise<Buffer>;
}

/** connect opens a connection (plain, or TLS when `ca` is given) that sends requests on demand. */
function connect(port: number, secure?: { ca: Buffer }): Promise<Client> {
  return new Promise((resolve) => {
    const socket: net.Socket = secure
      ? tls.connect({ port, host: '127.0.0.1', ca: secure.ca, servername: 'gw.test' })
      : net.connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    let all = Buffer.alloc(0);
    let waiting: ((status: number) => void) | undefined;
    let resolveClosed!: (b: Buffer) => void;
    const closed = new Promise<Buffer>((r) => (resolveClosed = r));
    socket.on('data', (c: Buffer) => {
      all = Buffer.concat([all, c]);
      buf = Buffer.concat([buf, c]);
      const { responses } = parseResponses(buf, false);
      if (responses.length > 0 && waiting) {
        buf = Buffer.alloc(0);
        const w = waiting;
        waiting = undefined;
        w(responses[0]!.status);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      waiting?.(0);
      resolveClosed(all);
    });
    const client: Client = {
      socket,
      request: (path) =>
        new Promise<number>((r) => {
          if (socket.destroyed) return r(0);
          waiting = r;
          socket.write(get(path));
        }),
      closed,
    };
    socket.once(secure ? 'secureConnect' : 'connect', () => resolve(client));
    // A connection dropped before (or during) the TLS handshake never connects: resolve so the test can look.
    socket.once('close', () => resolve(client));
  });
}

/** eventCount reads switchyard_events_total for one event and result from the exposition text. */
function eventCount(text: string, event: string, result: string): number {
  const line = text.split('\n').find((l) => l.startsWith('switchyard_events_total{') && l.includes(`event="${event}"`) && l.includes(`result="${result}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('limits.maxConnections on the public listener', () => {
  let rec: Recorder;
  let gw: TestGateway;
  beforeAll(async () => {
    rec = await startRecorder();
    gw = await startGateway({
      gateway: { limits: { maxConnections: 2 } },
      routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'all', match: { path: '/*' }, upstream: 'rec' }] } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await rec?.close();
  });

  it('closes a third connection unanswered while the first two are served, and accepts a new one once one of them closed', async () => {
    const a = await connect(gw.port);
    const b = await connect(gw.port);
    expect(await a.request('/a1')).toBe(200);
    expect(await b.request('/b1')).toBe(200);

    const c = await connect(gw.port);
    c.socket.write(get('/c'));
    expect((await c.closed).length).toBe(0);
    expect(rec.requests().map((r) => r.target)).not.toContain('/c');

    // The first two are still served, on the same connections.
    expect(await a.request('/a2')).toBe(200);
    expect(await b.request('/b2')).toBe(200);
    expect(eventCount(await gw.gateway.metricsText(), 'connection_dropped', 'public')).toBe(1);

    a.socket.end();
    await a.closed;
    // The gateway sees the close a moment after the client: retry until a new connection is taken.
    let attempts = 0;
    const d = await waitFor(
      async () => {
        attempts++;
        const next = await connect(gw.port);
        if ((await next.request('/d')) === 200) return next;
        next.socket.destroy();
        return undefined;
      },
      { message: 'a new connection accepted after one closed' },
    );
    expect(await b.request('/b3')).toBe(200);
    expect(eventCount(await gw.gateway.metricsText(), 'connection_dropped', 'public')).toBe(attempts);
    b.socket.destroy();
    d.socket.destroy();
  });

  it('counts an open WebSocket as a connection: it holds a socket like any other', async () => {
    const wsRec = await startWsRecorder();
    const g = await startGateway({
      gateway: { limits: { maxConnections: 2 } },
      routeFiles: { 'r.yaml': { upstreams: { ws: { targets: [{ url: wsRec.url }] } }, routes: [{ id: 'ws', match: { path: '/*' }, upstream: 'ws' }] } },
    });
    try {
      const ws = await openWs(g.port, upgradeRequest('/chat'));
      expect(ws.status).toBe(101);
      const a = await connect(g.port);
      const c = await connect(g.port);
      expect((await c.closed).length).toBe(0);
      expect(eventCount(await g.gateway.metricsText(), 'connection_dropped', 'public')).toBe(1);
      ws.socket.destroy();
      a.socket.destroy();
    } finally {
      await g.close();
      await wsRec.close();
    }
  });
});

describe.each<[string, CapMode]>([
  ['node’s maxConnections (single process)', 'native'],
  ['the counting implementation (cluster workers)', 'counted'],
])('capConnections with %s', (_name, mode) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cap-'));
  let ca: Buffer;
  let cert: string;
  let key: string;
  beforeAll(() => {
    cert = join(dir, 'gw.crt');
    key = join(dir, 'gw.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gw.test', '-addext', 'subjectAltName=DNS:gw.test'], { stdio: 'ignore' });
    ca = readFileSync(cert);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['plain HTTP', false],
    ['TLS', true],
  ])('on %s: serves two, drops the third, takes a new one after a close', async (_kind, secure) => {
    const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok');
    const server: http.Server = secure ? https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, handler) : http.createServer(handler);
    let dropped = 0;
    capConnections(server, 2, () => dropped++, mode);
    const errors: unknown[] = [];
    server.on('tlsClientError', (err) => errors.push(err));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const opts = secure ? { ca } : undefined;
    const a = await connect(port, opts);
    const b = await connect(port, opts);
    expect(await a.request('/')).toBe(200);
    expect(await b.request('/')).toBe(200);
    const c = await connect(port, opts);
    expect(await c.request('/')).toBe(0);
    expect((await c.closed).length).toBe(0);
    expect(dropped).toBe(1);
    // node drops the connection before TLS sees it; counted, TLS sees a closed socket ("socket hang up", not logged by the gateway).
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(mode === 'counted' && secure ? ['ECONNRESET'] : []);
    expect(await a.request('/')).toBe(200);
    b.socket.end();
    await b.closed;
    const d = await waitFor(
      async () => {
        const next = await connect(port, opts);
        if ((await next.request('/')) === 200) return next;
        next.socket.destroy();
        return undefined;
      },
      { message: 'a new connection accepted' },
    );
    a.socket.destroy();
    d.socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
});

describe('limits.maxConnections on the TLS listener and the HTTPS redirect listener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cap-tls-'));
  let rec: Recorder;
  let gw: Gateway;
  let ports: { port: number; redirectPort?: number };
  let ca: Buffer;
  beforeAll(async () => {
    const cert = join(dir, 'gw.crt');
    const key = join(dir, 'gw.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gw.test', '-addext', 'subjectAltName=DNS:gw.test'], { stdio: 'ignore' });
    ca = readFileSync(cert);
    rec = await startRecorder();
    gw = await createGateway({
      logger: pino({ level: 'silent' }),
      gateway: { listen: { host: '127.0.0.1', port: 0, redirectHttp: 0, tls: { cert, key, recheck: 0 } }, admin: { enabled: false }, limits: { maxConnections: 1 } },
      routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'all', match: { path: '/*' }, upstream: 'rec' }] } },
    });
    ports = await gw.listen();
  });
  afterAll(async () => {
    await gw?.close();
    await rec?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each listener keeps its own count: one TLS and one redirect connection served, a second of each dropped', async () => {
    const a = await connect(ports.port, { ca });
    expect(await a.request('/a')).toBe(200);
    const b = await connect(ports.port, { ca });
    expect(await b.request('/b')).toBe(0);
    const c = await connect(ports.redirectPort!);
    expect(await c.request('/c')).toBe(308);
    const d = await connect(ports.redirectPort!);
    expect(await d.request('/d')).toBe(0);
    expect(await a.request('/a2')).toBe(200);
    const text = await gw.metricsText();
    expect(eventCount(text, 'connection_dropped', 'public')).toBe(1);
    expect(eventCount(text, 'connection_dropped', 'redirect')).toBe(1);
    for (const x of [a, b, c, d]) x.socket.destroy();
  });
});
