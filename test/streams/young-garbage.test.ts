/**
 * A short stream connection leaves little for a full garbage collection: its
 * sockets and state die in the young generation. Two things had kept them
 * past young-generation collections, filling the old generation and making
 * the full collections behind the stream latency tail (bench/README.md,
 * journal "Issue 18 (2026-12-07)"): the listener's connections in a
 * long-lived Set (~3.6 KB each; process/linked-set.ts says how), and sockets
 * built from a plain options object, the dialled one (relay.ts
 * unconnectedSocket) and the accepted one (process/accept.ts).
 */
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { startStreamGateway, type StreamGateway } from './helpers.js';

const servers: Server[] = [];
let gw: StreamGateway | undefined;
afterAll(async () => {
  await gw?.close();
  servers.forEach((s) => s.close());
});

/** startEcho echoes every connection and ends when the client does, as the benchmark's sink. */
async function startEcho(): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => s.write(c));
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** exchange sends 100 bytes through `port`, waits for them back and closes. */
function exchange(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = 0;
    s.on('connect', () => s.write(Buffer.alloc(100, 0x45)));
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= 100) s.end();
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

/** survivorsPerConnection is what `n` connections through `port`, 10 at a time, leave in the heap after two young-generation collections. */
async function survivorsPerConnection(port: number, n: number): Promise<number> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
  const settle = () => new Promise((r) => setTimeout(r, 50));
  await settle();
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, () => exchange(port)));
  await settle();
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  return (process.memoryUsage().heapUsed - before) / n;
}

describe('stream connections and the garbage collector', () => {
  it('short connections die young: 1,000 of them through a stream listener leave under 2 KB each for a full collection', async () => {
    const echo = await startEcho();
    gw = await startStreamGateway({ s: { protocol: 'tcp' } }, { 'r.yaml': { upstreams: { e: { targets: [{ url: `tcp://127.0.0.1:${echo}` }] } }, streamRoutes: [{ id: 's', listener: 's', upstream: 'e' }] } });
    const port = gw.streamPort('s');
    await survivorsPerConnection(port, 200); // warm-up: code, pools and tables reach their size
    const through = await survivorsPerConnection(port, 1000);
    // Measured on Node 20: ~0.5 KB per connection, the test's own client socket and the echo server's included.
    // Before: ~10.9 KB with the listener's connections in a Set, ~6.8 KB with the upstream socket built from an options object
    // (relay.ts unconnectedSocket), ~5.4 KB with the accepted socket built by net.Server from one (process/accept.ts).
    expect(through).toBeLessThan(2000);
  });
});
