/**
 * The HA recipe end to end: a real HAProxy in `mode tcp` with
 * `send-proxy-v2` in front of Switchyard. A client on a second loopback
 * address (127.0.0.2) goes through HAProxy (127.0.0.1, the listed peer):
 * the upstream and the access log see 127.0.0.2, not the balancer; the same
 * header sent straight from the client (not listed) is refused.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeV2 } from '../../src/proxy-protocol/index.js';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { startHaproxy, type TestHaproxy } from '../helpers/haproxy.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

/** get sends one request over a raw connection from `localAddress` and returns the whole answer. */
async function get(port: number, localAddress: string, prefix: Buffer = Buffer.alloc(0)): Promise<string> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  s.write(Buffer.concat([prefix, Buffer.from('GET /app/x HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')]));
  await new Promise((r) => s.once('close', r));
  return Buffer.concat(chunks).toString();
}

describe('HAProxy send-proxy-v2 in front of Switchyard', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let lb: TestHaproxy;
  let log: CapturedLog;

  beforeAll(async () => {
    up = await startUpstream('app');
    log = captureLog('info');
    gw = await startGateway({
      logger: log.logger,
      gateway: { proxyProtocol: { accept: { from: ['127.0.0.1'], versions: ['v2'] } }, log: { accessLog: true } },
      routeFiles: { 'app.yaml': { upstreams: { app: { targets: [{ url: up.url }] } }, routes: [{ id: 'app', match: { path: '/app/*' }, upstream: 'app' }] } },
    });
    lb = await startHaproxy({ target: `127.0.0.1:${gw.port}`, serverOptions: 'send-proxy-v2' });
  }, 30_000);
  afterAll(async () => {
    await lb?.stop();
    await gw?.close();
    await up?.close();
  });

  it('the upstream and the access log see the original client, not the balancer', async () => {
    const text = await get(lb.port, '127.0.0.2');
    expect(text, lb.config).toMatch(/^HTTP\/1.1 200/);
    const echoed = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    expect(echoed.headers['x-forwarded-for']).toBe('127.0.0.2');
    await waitFor(() => log.lines.find((l) => l.kind === 'access' && l.ip === '127.0.0.2' && l.route === 'app'), { message: 'access log line for 127.0.0.2' });
  });

  it('the same header sent by the client itself is refused', async () => {
    const forged = encodeV2({ source: { address: '10.1.2.3', port: 1234 }, destination: { address: '127.0.0.1', port: gw.port } });
    expect(await get(gw.port, '127.0.0.2', forged)).toBe('');
    expect(up.requests.some((r) => r.headers['x-forwarded-for'] === '10.1.2.3')).toBe(false);
  });
});
