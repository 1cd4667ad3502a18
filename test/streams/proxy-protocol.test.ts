/**
 * PROXY protocol out: a stream upstream with `proxyProtocol: v1` or `v2`
 * receives the client's address in a header before the client's first byte
 * (read here with the strict parser of src/proxy-protocol), and the stream
 * goes on unchanged after it. PROXY protocol in: HAProxy (`send-proxy-v2`) in
 * front of a stream listener; the upstream and the access log see the
 * original client; a listed peer without a header and an unlisted peer with
 * one are refused.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyHeader } from '../../src/proxy-protocol/index.js';
import { connect } from 'node:net';
import { waitFor } from '../../src/testing/index.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { captureLog } from '../helpers/log-capture.js';
import { openSocket, readAll, startStreamGateway } from './helpers.js';

/** startHeaderEcho answers each connection with the PROXY header it received (as JSON) and echoes the rest. */
async function startHeaderEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => undefined); // cut streams reset it
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const parsed = parseProxyHeader(buf);
      if (!parsed) return;
      s.off('data', onData);
      const { version, source, destination } = parsed.header;
      s.write(JSON.stringify({ version, source, destination }) + '\n');
      s.write(buf.subarray(parsed.length));
      s.pipe(s);
    };
    s.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

describe('PROXY protocol out to stream upstreams', () => {
  let up: { server: Server; port: number };
  beforeAll(async () => {
    up = await startHeaderEcho();
  });
  afterAll(() => up.server.close());

  it.each(['v1', 'v2'] as const)('%s: the upstream receives the client address, then the bytes', async (version) => {
    const gw = await startStreamGateway(
      { pp: { protocol: 'tcp' } },
      { 'routes/pp.yaml': { upstreams: { pp: { proxyProtocol: version, targets: [{ url: `tcp://127.0.0.1:${up.port}` }] } }, streamRoutes: [{ id: 'pp', listener: 'pp', upstream: 'pp' }] } },
    );
    try {
      const s = await openSocket(gw.streamPort('pp'));
      const clientPort = s.localPort;
      const all = readAll(s);
      s.end('hello');
      const [head, rest] = (await all).toString().split('\n');
      expect(JSON.parse(head!)).toEqual({
        version,
        source: { address: '127.0.0.1', port: clientPort },
        destination: { address: '127.0.0.1', port: gw.streamPort('pp') },
      });
      expect(rest).toBe('hello');
    } finally {
      await gw.close();
    }
  }, 30_000);
});

describe('PROXY protocol in on stream listeners', () => {
  it('behind HAProxy send-proxy-v2 the upstream and the access log see the original client; unlisted headers are refused', async () => {
    const up = await startHeaderEcho();
    const log = captureLog();
    const gw = await startStreamGateway(
      { pp: { protocol: 'tcp' } },
      { 'routes/pp.yaml': { upstreams: { pp: { proxyProtocol: 'v1', targets: [{ url: `tcp://127.0.0.1:${up.port}` }] } }, streamRoutes: [{ id: 'pp', listener: 'pp', upstream: 'pp' }] } },
      { logger: log.logger, gateway: { proxyProtocol: { accept: { from: ['127.0.0.1'], versions: ['v2'], timeout: '1s' } } } },
    );
    const haproxy = await startHaproxy({ target: `127.0.0.1:${gw.streamPort('pp')}`, serverOptions: 'send-proxy-v2' });
    try {
      // Through HAProxy: the client (bound to 127.0.0.3) is who the upstream hears about.
      const c = connect({ host: '127.0.0.1', port: haproxy.port, localAddress: '127.0.0.3', allowHalfOpen: true });
      await once(c, 'connect');
      const clientPort = c.localPort;
      const all = readAll(c);
      c.end('hello');
      const [head, rest] = (await all).toString().split('\n');
      expect(JSON.parse(head!).source).toEqual({ address: '127.0.0.3', port: clientPort });
      expect(rest).toBe('hello');
      const line = await waitFor(() => log.lines.find((l) => l.msg === 'stream closed' && l.client === '127.0.0.3'));
      expect(line).toMatchObject({ peer: '127.0.0.1', clientPort, end: 'closed' });

      // A listed peer (127.0.0.1) must send a header: plain bytes are refused.
      const bare = await openSocket(gw.streamPort('pp'));
      bare.on('error', () => undefined);
      bare.end('no header here');
      await readAll(bare);
      // An unlisted peer (127.0.0.2) cannot claim an address: a stream that opens with a header is cut.
      const liar = connect({ host: '127.0.0.1', port: gw.streamPort('pp'), localAddress: '127.0.0.2', allowHalfOpen: true });
      liar.on('error', () => undefined);
      await once(liar, 'connect');
      const lied = readAll(liar);
      liar.write('PROXY TCP4 10.9.9.9 127.0.0.1 1234 80\r\n');
      const heard = (await lied).toString();
      expect(heard).not.toContain('10.9.9.9');
      // Without a header, an unlisted peer is served as itself.
      const direct = connect({ host: '127.0.0.1', port: gw.streamPort('pp'), localAddress: '127.0.0.2', allowHalfOpen: true });
      await once(direct, 'connect');
      const directAll = readAll(direct);
      direct.end('plain');
      expect(JSON.parse((await directAll).toString().split('\n')[0]!).source.address).toBe('127.0.0.2');

      const refusals = await waitFor(() => {
        const r = log.lines.filter((l) => l.listener === 'pp' && l.code === 'SY_ERR_BAD_REQUEST');
        return r.length >= 2 && r;
      });
      expect(refusals.map((l) => l.client).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
      expect(await gw.gateway.metricsText()).toMatch(/switchyard_stream_dropped_total\{listener="pp",reason="proxy_header"\} 2/);
    } finally {
      await haproxy.stop();
      await gw.close();
      up.server.close();
    }
  }, 60_000);
});
