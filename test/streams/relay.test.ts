/**
 * The reused-buffer relay (src/streams/relay.ts) and the adoption of an
 * accepted socket: bytes arrive intact and in order both ways although every
 * read lands in the same buffer, including while a slow reader forces writes
 * that do not reach the kernel at once; bytes an accepted socket had read
 * before the splice go first.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, expect, test } from 'vitest';
import { Relay } from '../../src/streams/relay.js';
import { splice, type Splice } from '../../src/streams/splice.js';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** gateway splices each accepted connection to an echo upstream; `before` runs on the accepted socket first. */
async function gateway(before?: (s: net.Socket) => void): Promise<{ port: number; splices: Splice[]; adopted: boolean[] }> {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const upstreamPort = await listen(echo);
  const splices: Splice[] = [];
  const adopted: boolean[] = [];
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    before?.(client);
    const relay = new Relay();
    const up = net.connect({ port: upstreamPort, host: '127.0.0.1', allowHalfOpen: true, onread: relay.onread });
    up.once('connect', () => {
      up.pause();
      const s = splice(client, up, relay, undefined, 0);
      adopted.push(s.adopted);
      splices.push(s);
    });
  });
  return { port: await listen(server), splices, adopted };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('16 MB of random bytes come back intact through one reused buffer per direction, with a reader that stalls', async () => {
  const gw = await gateway();
  const data = randomBytes(16 * 1024 * 1024);
  const c = net.connect({ port: gw.port, host: '127.0.0.1', allowHalfOpen: true });
  await once(c, 'connect');
  c.pause(); // nothing read yet: the echo and the gateway back up, and the gateway's writes go pending
  const parts: Buffer[] = [];
  const got = new Promise<Buffer>((resolve) => {
    c.on('data', (d: Buffer) => parts.push(d));
    c.once('end', () => resolve(Buffer.concat(parts)));
  });
  let sent = 0;
  const writing = (async () => {
    while (sent < data.length) {
      const chunk = data.subarray(sent, sent + 100_000);
      sent += chunk.length;
      if (!c.write(chunk)) await once(c, 'drain');
    }
    c.end();
  })();
  // Resume once the sender is stuck behind the paused reader (backpressure reached it), not after a fixed time.
  while (c.writableLength === 0 && sent < data.length) await new Promise((r) => setImmediate(r));
  c.resume();
  await writing;
  const back = await got;
  expect(back.length).toBe(data.length);
  expect(sha(back)).toBe(sha(data));
  const r = await gw.splices[0]!.done;
  expect(gw.adopted).toEqual([true]);
  expect(r).toMatchObject({ end: 'closed', bytesIn: data.length, bytesOut: data.length });
});

test('bytes the accepted socket held before the splice are sent first', async () => {
  const gw = await gateway((s) => s.unshift(Buffer.from('held:')));
  const c = net.connect({ port: gw.port, host: '127.0.0.1', allowHalfOpen: true });
  await once(c, 'connect');
  const parts: Buffer[] = [];
  c.on('data', (d: Buffer) => parts.push(d));
  c.end('then-the-rest');
  await once(c, 'end');
  expect(Buffer.concat(parts).toString()).toBe('held:then-the-rest');
  expect(gw.adopted).toEqual([true]);
});
