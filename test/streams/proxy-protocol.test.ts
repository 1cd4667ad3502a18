/**
 * PROXY protocol out: a stream upstream with `proxyProtocol: v1` or `v2`
 * receives the client's address in a header before the client's first byte
 * (read here with the strict parser of src/proxy-protocol), and the stream
 * goes on unchanged after it.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyHeader } from '../../src/proxy-protocol/index.js';
import { openSocket, readAll, startStreamGateway } from './helpers.js';

/** startHeaderEcho answers each connection with the PROXY header it received (as JSON) and echoes the rest. */
async function startHeaderEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
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
