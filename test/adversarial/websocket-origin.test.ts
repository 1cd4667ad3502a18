/**
 * Cross-site WebSocket hijacking: a page on another site opening a WebSocket
 * to the gateway with the user's cookies. Raw handshakes with every Origin
 * an attacker can make a browser send; a refused upgrade gets 403
 * SY_ERR_WEBSOCKET_ORIGIN, is logged and counted, and the upstream (a
 * recorder) is never dialled. The gateway's own origin is the scheme it sees
 * (TLS, or X-Forwarded-Proto from a trusted proxy) plus the Host.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import { createGateway, type Gateway } from '../../src/gateway/gateway.js';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { parseResponses } from './helpers.js';
import { openWs, startWsRecorder, upgradeRequest, type WsRecorder } from './ws-helpers.js';
import { captureLog } from '../helpers/log-capture.js';

/** eventCount reads switchyard_events_total for one event and result from the exposition text. */
function eventCount(text: string, event: string, result: string): number {
  const line = text.split('\n').find((l) => l.startsWith('switchyard_events_total{') && l.includes(`event="${event}"`) && l.includes(`result="${result}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** handshake sends an upgrade to `path` with extra header lines; resolves with the status and, for refusals, the parsed response. */
async function handshake(port: number, path: string, headers: string, host?: string) {
  const ws = await openWs(port, upgradeRequest(path, headers, host));
  if (ws.status === 101) {
    ws.socket.destroy();
    return { status: 101, error: undefined, closed: false };
  }
  await ws.closed;
  const r = parseResponses(Buffer.concat([Buffer.from(ws.head + '\r\n\r\n', 'latin1'), ws.received()]), true);
  return { status: ws.status, error: r.responses[0]?.json().error, closed: ws.ended() };
}

const COOKIE = 'Cookie: sid=0123456789abcdef\r\n';

describe('WebSocket Origin check', () => {
  let rec: WsRecorder;
  let gw: TestGateway;
  const logs = captureLog('warn');
  beforeAll(async () => {
    rec = await startWsRecorder();
    gw = await startGateway({
      logger: logs.logger,
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: { rec: { targets: [{ url: rec.url }] } },
          routes: [
            { id: 'open', match: { path: '/ws/*' }, upstream: 'rec' },
            { id: 'listed', match: { path: '/listed/*' }, upstream: 'rec', websocketOrigins: ['https://app.example.com', 'https://*.partner.example'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await rec?.close();
  });
  afterEach(() => rec.reset());

  // The gateway listens in plain HTTP as gw.test: its own origin is http://gw.test.
  it.each([
    ['a foreign Origin with a cookie', '/ws/x', `Origin: https://evil.example\r\n${COOKIE}`, 403],
    ['Origin null with a cookie', '/ws/x', `Origin: null\r\n${COOKIE}`, 403],
    ['a look-alike of its own host with a cookie', '/ws/x', `Origin: http://gw.test.evil.example\r\n${COOKIE}`, 403],
    ['its own host over https (not the scheme the client used) with a cookie', '/ws/x', `Origin: https://gw.test\r\n${COOKIE}`, 403],
    ['its own host on another port with a cookie', '/ws/x', `Origin: http://gw.test:8080\r\n${COOKIE}`, 403],
    ['its own Origin and a foreign one, in two headers, with a cookie', '/ws/x', `Origin: http://gw.test\r\nOrigin: https://evil.example\r\n${COOKIE}`, 403],
    ['a foreign Origin with Basic credentials', '/ws/x', 'Origin: https://evil.example\r\nAuthorization: Basic dXNlcjpwYXNz\r\n', 403],
    ['its own Origin with a cookie', '/ws/x', `Origin: http://gw.test\r\n${COOKIE}`, 101],
    ['its own Origin spelled with the default port and upper case, with a cookie', '/ws/x', `Origin: HTTP://GW.test:80\r\n${COOKIE}`, 101],
    ['a cookie and no Origin (not a browser page)', '/ws/x', COOKIE, 101],
    ['a foreign Origin without credentials', '/ws/x', 'Origin: https://evil.example\r\n', 101],
    ['a foreign Origin with a Bearer token', '/ws/x', 'Origin: https://evil.example\r\nAuthorization: Bearer abc.def.ghi\r\n', 101],
    ['listed route: a listed Origin with a cookie', '/listed/x', `Origin: https://app.example.com\r\n${COOKIE}`, 101],
    ['listed route: a wildcard-listed Origin', '/listed/x', 'Origin: https://eu.partner.example\r\n', 101],
    ['listed route: its own Origin', '/listed/x', 'Origin: http://gw.test\r\n', 101],
    ['listed route: no Origin', '/listed/x', '', 101],
    ['listed route: a foreign Origin without credentials', '/listed/x', 'Origin: https://evil.example\r\n', 403],
    ['listed route: the apex of a wildcard', '/listed/x', 'Origin: https://partner.example\r\n', 403],
    ['listed route: Origin null', '/listed/x', 'Origin: null\r\n', 403],
  ])('%s → %i', async (_name, path, headers, status) => {
    const r = await handshake(gw.port, path, headers);
    expect(r.status).toBe(status);
    if (status === 403) {
      expect(r.error).toMatchObject({ code: 'SY_ERR_WEBSOCKET_ORIGIN', status: 403 });
      expect(r.closed).toBe(true);
      // Never dialled: the recorder saw no handshake (a connection would have been recorded).
      expect(rec.connections).toHaveLength(0);
    } else {
      await waitFor(() => rec.connections.length === 1, { message: 'upgrade forwarded' });
    }
  });

  it('logs and counts each refusal with the Origin and why', async () => {
    const before = eventCount(await gw.gateway.metricsText(), 'websocket_origin_rejected', 'credentials');
    const beforeUnlisted = eventCount(await gw.gateway.metricsText(), 'websocket_origin_rejected', 'unlisted');
    logs.lines.length = 0;
    expect((await handshake(gw.port, '/ws/x', `Origin: https://attacker.example\r\n${COOKIE}`)).status).toBe(403);
    expect((await handshake(gw.port, '/listed/x', 'Origin: https://attacker.example\r\n')).status).toBe(403);
    const text = await gw.gateway.metricsText();
    expect(eventCount(text, 'websocket_origin_rejected', 'credentials')).toBe(before + 1);
    expect(eventCount(text, 'websocket_origin_rejected', 'unlisted')).toBe(beforeUnlisted + 1);
    const refused = logs.lines.filter((l) => l.msg === 'cross-site WebSocket upgrade refused');
    expect(refused.map((l) => [l.route, l.origin, l.reason])).toEqual([
      ['open', 'https://attacker.example', 'credentials'],
      ['listed', 'https://attacker.example', 'unlisted'],
    ]);
  });
});

describe('WebSocket Origin check behind a trusted proxy', () => {
  let rec: WsRecorder;
  let trusting: TestGateway;
  let distrusting: TestGateway;
  beforeAll(async () => {
    rec = await startWsRecorder();
    const routeFiles = { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'open', match: { path: '/*' }, upstream: 'rec' }] } };
    trusting = await startGateway({ gateway: { trustProxy: ['127.0.0.1'] }, routeFiles });
    distrusting = await startGateway({ gateway: {}, routeFiles });
  });
  afterAll(async () => {
    await trusting?.close();
    await distrusting?.close();
    await rec?.close();
  });
  afterEach(() => rec.reset());

  it('takes the scheme and host from a trusted proxy’s X-Forwarded-Proto and -Host', async () => {
    const fwd = 'X-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example.com\r\n';
    expect((await handshake(trusting.port, '/x', `${fwd}Origin: https://app.example.com\r\n${COOKIE}`, 'internal:8080')).status).toBe(101);
    expect((await handshake(trusting.port, '/x', `${fwd}Origin: http://app.example.com\r\n${COOKIE}`, 'internal:8080')).status).toBe(403);
  });

  it('ignores X-Forwarded-Proto from a peer it does not trust', async () => {
    const r = await handshake(distrusting.port, '/x', `X-Forwarded-Proto: https\r\nOrigin: https://gw.test\r\n${COOKIE}`);
    expect(r.status).toBe(403);
    expect(rec.connections).toHaveLength(0);
    expect((await handshake(distrusting.port, '/x', `X-Forwarded-Proto: https\r\nOrigin: http://gw.test\r\n${COOKIE}`)).status).toBe(101);
  });
});

describe('WebSocket Origin check on a TLS listener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-ws-origin-'));
  let rec: WsRecorder;
  let gw: Gateway;
  let port: number;
  beforeAll(async () => {
    const cert = join(dir, 'gw.crt');
    const key = join(dir, 'gw.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gw.test', '-addext', 'subjectAltName=DNS:gw.test'], { stdio: 'ignore' });
    rec = await startWsRecorder();
    gw = await createGateway({
      logger: pino({ level: 'silent' }),
      gateway: { listen: { host: '127.0.0.1', port: 0, tls: { cert, key, recheck: 0 } }, admin: { enabled: false } },
      routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'open', match: { path: '/*' }, upstream: 'rec' }] } },
    });
    port = (await gw.listen()).port;
  });
  afterAll(async () => {
    await gw?.close();
    await rec?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** connect opens a WebSocket as a browser page at `origin` would, with a cookie; resolves with the handshake status. */
  function connect(origin: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${port}/chat`, { origin, headers: { host: 'gw.test', cookie: 'sid=1' }, rejectUnauthorized: false, servername: 'gw.test' });
      ws.once('open', () => {
        ws.terminate();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode!);
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  it('is https://<host>: an https page of the same host is let through, its http twin is not', async () => {
    expect(await connect('https://gw.test')).toBe(101);
    expect(await connect('http://gw.test')).toBe(403);
    expect(await connect('https://evil.example')).toBe(403);
    expect(rec.connections).toHaveLength(1);
  });
});

describe('websocketOrigins validation', () => {
  it.each([
    [['*'], /routes\[0\]\.websocketOrigins: "\*" would let any site/],
    [['null'], /routes\[0\]\.websocketOrigins: "null" cannot be allowed/],
    [['app.example.com'], /routes\[0\]\.websocketOrigins: "app\.example\.com" is not an origin/],
  ])('refuses %j at load, naming the route file and the key', async (list, message) => {
    const load = createGateway({
      offline: true,
      logger: pino({ level: 'silent' }),
      gateway: {},
      routeFiles: { 'r.yaml': { upstreams: { u: { targets: [{ url: 'http://127.0.0.1:1' }] } }, routes: [{ id: 'r', match: { path: '/*' }, upstream: 'u', websocketOrigins: list }] } },
    });
    await expect(load).rejects.toThrow(message);
  });
});
