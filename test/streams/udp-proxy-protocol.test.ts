/**
 * PROXY protocol in on a udp listener (v2 DGRAM): a listed peer (the
 * balancer, on 127.0.0.2) heads a session's first datagram with the client's
 * address; the header is stripped, the upstream gets the payload, the access
 * log names the client and the peer; later datagrams of the flow may go
 * without a header. A header naming another client on the same flow, a
 * listed peer's first datagram without a header, and a header from an
 * unlisted peer (127.0.0.1) are dropped and counted.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeV2 } from '../../src/proxy-protocol/index.js';
import { waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { startStreamGateway, type StreamGateway } from './helpers.js';

/** sender is a udp socket on `host` that sends to the gateway and collects the replies. */
async function sender(host: string, port: number): Promise<{ socket: Socket; send(b: Buffer | string): void; replies: string[] }> {
  const socket = createSocket('udp4');
  socket.bind(0, host);
  await once(socket, 'listening');
  const replies: string[] = [];
  socket.on('message', (m) => replies.push(m.toString()));
  return { socket, send: (b) => socket.send(b, port, '127.0.0.1'), replies };
}

describe('PROXY protocol v2 DGRAM in on a udp listener', () => {
  let echo: Socket;
  let gw: StreamGateway;
  const log = captureLog();
  const dropped = async () => Number(/switchyard_stream_dropped_total\{listener="dns",reason="proxy_header"\} (\d+)/.exec(await gw.gateway.metricsText())?.[1] ?? 0);

  beforeAll(async () => {
    echo = createSocket('udp4');
    echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    echo.bind(0, '127.0.0.1');
    await once(echo, 'listening');
    gw = await startStreamGateway(
      { dns: { protocol: 'udp', sessionIdleTimeout: '400ms' } },
      { 'routes/dns.yaml': { upstreams: { dns: { targets: [{ url: `udp://127.0.0.1:${echo.address().port}` }] } }, streamRoutes: [{ id: 'dns', listener: 'dns', upstream: 'dns' }] } },
      { logger: log.logger, gateway: { proxyProtocol: { accept: { from: ['127.0.0.2'] } } } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    echo?.close();
  });

  it('strips a listed peer\'s header, names its client in the access log, and lets the flow go on without one', async () => {
    const port = gw.streamPort('dns');
    const header = (address: string, p: number) => encodeV2({ transport: 'udp', source: { address, port: p }, destination: { address: '127.0.0.1', port } });
    const lb = await sender('127.0.0.2', port);
    lb.send(Buffer.concat([header('203.0.113.7', 5555), Buffer.from('hello')]));
    await waitFor(() => lb.replies.length === 1, { message: 'reply to the headed datagram' });
    lb.send('again');
    await waitFor(() => lb.replies.length === 2, { message: 'reply to the bare datagram' });
    expect(lb.replies).toEqual(['echo:hello', 'echo:again']);

    // Another client on the same flow: dropped.
    lb.send(Buffer.concat([header('198.51.100.9', 1), Buffer.from('spoof')]));
    await waitFor(async () => (await dropped()) === 1, { message: 'the conflicting header counted' });
    // A listed peer's new flow must start with a header.
    const lb2 = await sender('127.0.0.2', port);
    lb2.send('no header');
    await waitFor(async () => (await dropped()) === 2, { message: 'the headerless first datagram counted' });
    // An unlisted peer cannot claim an address; its plain datagrams are served.
    const direct = await sender('127.0.0.1', port);
    direct.send(Buffer.concat([header('192.0.2.1', 2), Buffer.from('claim')]));
    await waitFor(async () => (await dropped()) === 3, { message: 'the unlisted header counted' });
    direct.send('plain');
    await waitFor(() => direct.replies.length === 1, { message: 'plain datagram served' });
    expect(direct.replies).toEqual(['echo:plain']);
    expect(lb.replies).toHaveLength(2);
    expect(lb2.replies).toEqual([]);

    const closed = await waitFor(() => {
      const lines = log.lines.filter((l) => l.msg === 'stream closed' && l.listener === 'dns');
      return lines.length >= 2 && lines;
    });
    expect(closed.find((l) => l.peer !== undefined)).toMatchObject({ client: '203.0.113.7', clientPort: 5555, peer: '127.0.0.2', bytesIn: 10, bytesOut: 20, end: 'idle-timeout' });
    expect(closed.find((l) => l.peer === undefined)).toMatchObject({ client: '127.0.0.1', bytesIn: 5 });
    for (const s of [lb, lb2, direct]) s.socket.close();
  }, 30_000);
});
