/**
 * readProxyHeader on real loopback sockets: it takes exactly the header
 * however the bytes arrive (one chunk, byte by byte, header and payload in
 * one write), hands the rest to the next reader untouched, and gives up on
 * garbage, oversize, a silent peer and an early close.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeV1, encodeV2, readProxyHeader, type ProxyHeader, type ReadOptions } from '../../src/proxy-protocol/index.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** serve reads a header off each connection, then collects the rest of its bytes. */
async function serve(options: ReadOptions): Promise<{ port: number; next: () => Promise<{ header?: ProxyHeader; error?: Error & { reason?: string }; rest: Buffer; closed: boolean }> }> {
  const results: Array<Promise<{ header?: ProxyHeader; error?: Error & { reason?: string }; rest: Buffer; closed: boolean }>> = [];
  const server = createServer((socket: Socket) => {
    results.push(
      (async () => {
        try {
          const header = await readProxyHeader(socket, options);
          const chunks: Buffer[] = [];
          socket.on('data', (c: Buffer) => chunks.push(c));
          socket.resume(); // the reader leaves the socket paused for the next consumer
          await once(socket, 'end');
          socket.end();
          return { header, rest: Buffer.concat(chunks), closed: false };
        } catch (error) {
          socket.destroy();
          return { error: error as Error & { reason?: string }, rest: Buffer.alloc(0), closed: true };
        }
      })(),
    );
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  let i = 0;
  return {
    port,
    next: async () => {
      while (results.length <= i) await new Promise((r) => setImmediate(r));
      return results[i++]!;
    },
  };
}

/** send writes the chunks with a round trip between them so they arrive as separate reads. */
async function send(port: number, chunks: Buffer[], end = true): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.setNoDelay(true);
  s.on('error', () => {});
  await once(s, 'connect');
  for (const c of chunks) {
    s.write(c);
    await new Promise((r) => setTimeout(r, 1)); // let the chunk leave as its own segment; correctness never depends on it
  }
  if (end) s.end();
  return s;
}

const v1 = encodeV1({ source: { address: '203.0.113.9', port: 40000 }, destination: { address: '127.0.0.1', port: 80 } });
const v2 = encodeV2({ source: { address: '2001:db8::9', port: 40000 }, destination: { address: '2001:db8::1', port: 443 }, tlvs: [{ type: 0x01, value: Buffer.from('h2') }], crc32c: true });
const payload = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');

describe('readProxyHeader', () => {
  it.each([
    ['v1 in one write with the payload', [Buffer.concat([v1, payload])], '203.0.113.9'],
    ['v2 in one write with the payload', [Buffer.concat([v2, payload])], '2001:db8::9'],
    ['v1 byte by byte, then the payload', [...[...v1].map((x) => Buffer.from([x])), payload], '203.0.113.9'],
    ['v2 byte by byte, then the payload', [...[...v2].map((x) => Buffer.from([x])), payload], '2001:db8::9'],
    ['v2 split inside the signature, the last header byte riding with the payload', [v2.subarray(0, 5), v2.subarray(5, v2.length - 1), Buffer.concat([v2.subarray(v2.length - 1), payload])], '2001:db8::9'],
  ])('%s: the next reader gets exactly the payload', async (_name, chunks, address) => {
    const srv = await serve({ timeoutMs: 5000 });
    await send(srv.port, chunks);
    const r = await srv.next();
    expect(r.error).toBeUndefined();
    expect(r.header!.source!.address).toBe(address);
    expect(r.rest.toString()).toBe(payload.toString());
  });

  it.each<[string, Buffer[], ReadOptions, string]>([
    ['garbage', [Buffer.from('GET / HTTP/1.1\r\n\r\n')], {}, 'malformed'],
    ['a TLS ClientHello', [Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa0, 0x01])], {}, 'malformed'],
    ['a v1 line without CRLF', [Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}`)], {}, 'oversize'],
    ['v2 announcing more than the cap', [Buffer.concat([v2.subarray(0, 14), Buffer.from([0x10, 0x00])])], { maxBytes: 1024 }, 'oversize'],
    ['v1 where only v2 is accepted', [v1], { versions: ['v2'] }, 'version'],
    ['a header cut short by the close', [v2.subarray(0, 20)], {}, 'closed'],
    ['a connection closed before its first byte (a TCP health check)', [], {}, 'empty'],
  ])('%s is refused (%s)', async (_name, chunks, options, reason) => {
    const srv = await serve({ timeoutMs: 5000, ...options });
    await send(srv.port, chunks);
    const r = await srv.next();
    expect(r.error?.reason).toBe(reason);
  });

  it('a silent peer times out, and so does a slow one that never finishes', async () => {
    const srv = await serve({ timeoutMs: 200 });
    const silent = await send(srv.port, [], false);
    const slow = await send(srv.port, [v1.subarray(0, 10)], false);
    const started = Date.now();
    const [a, b] = [await srv.next(), await srv.next()];
    expect(a.error?.reason).toBe('timeout');
    expect(b.error?.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(4000);
    silent.destroy();
    slow.destroy();
  });
});
